{#- Where every month of every scheme stands (issue 17): scored in the marts only
    (draft), stopped by its quality gate (gate_failed), waiting for sign-off in Airflow
    (awaiting_signoff), sent back (rejected), published, or revised after its first
    publication (revised); and whether a revision waits for an office; the month's data
    cutoff (考核截止日), and whether its first publication read data past it. A month whose
    gate failed has scores in marts.region_index_monthly, but nothing of it went out:
    read published numbers from marts.region_index_published.
    A view, current as soon as a gate, a draft or a publication is recorded.
    Grain: scheme_code × month_start. -#}
{{ config(materialized='view') }}

with

scored as (

    select distinct
        scheme_code,
        month_start
    from {{ ref('region_index_monthly') }}

),

latest as (

    select * from {{ ref('int_publications_latest_selected') }}

),

publications as (

    select * from {{ ref('stg_publish__publications') }}

),

drafts as (

    select * from {{ ref('stg_publish__drafts') }}

),

gate_results as (

    select * from {{ ref('stg_publish__gate_results') }}

),

months as (

    select scheme_code, month_start from scored
    union
    select scheme_code, month_start from latest

),

last_gate as (

    select distinct on (month_start)
        month_start,
        is_passed,
        reason,
        checked_at
    from gate_results
    order by month_start, checked_at desc, gate_result_id desc

),

waiting as (

    select
        scheme_code,
        month_start,
        bool_or(signoff_via = 'airflow')                as is_awaiting_airflow,
        bool_or(signoff_via = 'office')                 as is_awaiting_office
    from drafts
    where status = 'awaiting'
    group by scheme_code, month_start

),

last_draft as (

    select distinct on (scheme_code, month_start)
        scheme_code,
        month_start,
        status,
        decided_by,
        reason,
        cutoff_at
    from drafts
    where signoff_via = 'airflow'
    order by scheme_code, month_start, drafted_at desc, draft_id desc

),

first_publication as (

    select
        scheme_code,
        month_start,
        cutoff_at,
        data_loaded_to
    from publications
    where revision = 1

),

in_force as (

    select
        publications.scheme_code,
        publications.month_start,
        publications.revision,
        publications.signed_by,
        publications.sent_at
    from publications
    inner join latest
        using (scheme_code, month_start, revision)

),

final as (

    select
        months.scheme_code,
        months.month_start,
        case
            when in_force.revision > 1 then 'revised'
            when in_force.revision = 1 then 'published'
            when waiting.is_awaiting_airflow then 'awaiting_signoff'
            when last_draft.status = 'rejected' then 'rejected'
            when not last_gate.is_passed then 'gate_failed'
            else 'draft'
        end                                                         as month_status,
        cast(in_force.revision as integer)                          as published_revision,
        in_force.signed_by,
        in_force.sent_at,
        coalesce(waiting.is_awaiting_office, false)                 as is_revision_awaiting,
        scored.scheme_code is not null                              as is_scored,
        last_gate.is_passed                                         as is_gate_passed,
        last_gate.reason                                            as gate_reason,
        last_gate.checked_at                                        as gate_checked_at,
        case when last_draft.status = 'rejected' then last_draft.reason end
                                                                    as rejected_reason,
        coalesce(first_publication.cutoff_at, last_draft.cutoff_at) as cutoff_at,
        first_publication.data_loaded_to > first_publication.cutoff_at
                                                                    as is_published_after_cutoff
    from months
    left join scored
        using (scheme_code, month_start)
    left join in_force
        using (scheme_code, month_start)
    left join waiting
        using (scheme_code, month_start)
    left join last_draft
        using (scheme_code, month_start)
    left join first_publication
        using (scheme_code, month_start)
    left join last_gate
        on months.month_start = last_gate.month_start

)

select * from final
