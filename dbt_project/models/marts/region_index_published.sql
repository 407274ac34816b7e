{#- The index as published (issue 17): every unit of every published month, as the
    revision in force published it, whatever later data did to the current marts
    (marts.region_index_monthly). What the bulletin and the ranking files of that
    revision showed; read it for published numbers, the current marts for what the
    data give now. A view over the publication snapshots (publish.publication_units),
    current as soon as a publication is recorded.
    Grain: scheme_code × month_start × region_code. -#}
{{ config(materialized='view') }}

with

publications as (

    select * from {{ ref('stg_publish__publications') }}

),

published_units as (

    select * from {{ ref('int_publication_units_in_force_selected') }}

),

in_force as (

    select
        published_units.*,
        publications.signed_by,
        publications.signed_at,
        publications.sent_at
    from published_units
    inner join publications
        using (scheme_code, month_start, revision)

),

final as (

    select
        scheme_code,
        cast(published_row ->> 'scheme_version' as integer)           as scheme_version,
        month_start,
        region_code,
        region_name,
        published_row ->> 'region_level'                               as region_level,
        published_row ->> 'peer_group_code'                            as peer_group_code,
        published_row ->> 'peer_group_name'                            as peer_group_name,
        cast(score as numeric(6, 2))                                   as score,
        grade,
        published_row ->> 'grade_colour'                               as grade_colour,
        cast(published_row ->> 'stars' as integer)                     as stars,
        published_row ->> 'warning_level'                              as warning_level,
        cast(published_row ->> 'consecutive_reds' as integer)          as consecutive_reds,
        cast(published_row ->> 'escalated' as boolean)                 as escalated,
        cast(rank as integer)                                          as rank_in_peer_group,
        cast(published_row ->> 'units_ranked' as integer)              as units_ranked,
        cast(published_row ->> 'previous_rank' as integer)             as previous_rank,
        cast(published_row ->> 'rank_change' as integer)               as rank_change,
        cast(published_row ->> 'previous_score' as numeric(6, 2))      as previous_score,
        cast(published_row ->> 'score_change_pct' as numeric(8, 2))    as score_change_pct,
        cast(revision as integer)                                      as published_revision,
        signed_by,
        signed_at,
        sent_at
    from in_force

)

select * from final
