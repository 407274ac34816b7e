{#- The revision triangle (issue 17), as statistical offices publish one: for every
    unit of every published month, the value each revision published (vintage r1, r2,
    …, with when it was sent) and the value the marts give now (vintage "current"),
    each with its change against the first publication. Pivot month × vintage for the
    triangle. A view over the publication snapshots and marts.region_index_monthly.
    Grain: scheme_code × month_start × region_code × vintage. -#}
{{ config(materialized='view') }}

with

publications as (

    select * from {{ ref('stg_publish__publications') }}

),

published_units as (

    select * from {{ ref('stg_publish__publication_units') }}

),

latest as (

    select * from {{ ref('int_publications_latest_selected') }}

),

current_units as (

    select * from {{ ref('region_index_monthly') }}

),

published as (

    select
        published_units.scheme_code,
        published_units.month_start,
        published_units.region_code,
        published_units.region_name,
        'r' || published_units.revision                     as vintage,
        published_units.revision,
        publications.sent_at,
        published_units.score,
        published_units.rank,
        published_units.grade
    from published_units
    inner join publications
        using (scheme_code, month_start, revision)

),

now_scored as (

    select
        current_units.scheme_code,
        current_units.month_start,
        current_units.region_code,
        current_units.region_name,
        'current'                                           as vintage,
        cast(null as integer)                               as revision,
        cast(null as timestamptz)                           as sent_at,
        current_units.score,
        current_units.rank_in_peer_group                    as rank,
        current_units.grade
    from current_units
    inner join latest
        using (scheme_code, month_start)

),

vintages as (

    select * from published
    union all
    select * from now_scored

),

first_published as (

    select
        scheme_code,
        month_start,
        region_code,
        score,
        rank
    from published_units
    where revision = 1

),

final as (

    select
        vintages.scheme_code,
        vintages.month_start,
        vintages.region_code,
        vintages.region_name,
        vintages.vintage,
        cast(vintages.revision as integer)                                  as revision,
        vintages.sent_at,
        cast(vintages.score as numeric(6, 2))                               as score,
        cast(vintages.rank as integer)                                      as rank_in_peer_group,
        vintages.grade,
        cast(vintages.score - first_published.score as numeric(8, 2))       as score_change_since_first,
        cast(first_published.rank - vintages.rank as integer)               as places_gained_since_first
    from vintages
    left join first_published
        on vintages.scheme_code = first_published.scheme_code
        and vintages.month_start = first_published.month_start
        and vintages.region_code = first_published.region_code

)

select * from final
