{#- Every bulletin mailed: scheme, version, month, revision, the month's data cutoff
    (考核截止日) and how far the sources had been read, who signed it off (签发人) and
    when, recipients,
    the checksum of the content published, the attachments and, for a revision, the
    differences it stated. A view, so that BI sees a publication as soon as it is
    recorded (publications happen after dbt has run).
    Grain: scheme_code × month_start × revision. -#}
{{ config(materialized='view') }}

with

publications as (

    select * from {{ ref('stg_publish__publications') }}

),

final as (

    select
        scheme_code,
        cast(scheme_version as integer)                     as scheme_version,
        month_start,
        cast(revision as integer)                           as revision,
        revision = max(revision) over (
            partition by scheme_code, month_start
        )                                                   as is_latest,
        data_cutoff,
        cutoff_at,
        data_loaded_to,
        signed_by,
        signed_at,
        sent_at,
        subject,
        message_id,
        recipients,
        cast(cardinality(recipients) as integer)            as recipient_count,
        checksum,
        files                                               as attachments,
        cast(jsonb_array_length(files) as integer)          as attachment_count,
        changes,
        cast(jsonb_array_length(changes) as integer)        as change_count,
        cast((
            select count(distinct change ->> 'region_code')
            from jsonb_array_elements(changes) as change
        ) as integer)                                       as units_changed
    from publications

)

select * from final
