{#- Revision candidates (issue 17): every unit of every published month, as its latest
    revision published it and as the marts give it now, with what moved, how many of
    its items moved, and the last review of the month under the revision policy
    (whether it found this unit's change material, and the revision it drafted).
    A view, like marts.publications: current as soon as a publication or a review is
    recorded. Grain: scheme_code × month_start × region_code. -#}
{{ config(materialized='view') }}

with

latest as (

    select * from {{ ref('int_publications_latest_selected') }}

),

published as (

    select * from {{ ref('int_publication_units_in_force_selected') }}

),

published_items as (

    select * from {{ ref('int_publication_items_in_force_selected') }}

),

reviews as (

    select * from {{ ref('stg_publish__revision_reviews') }}

),

current_units as (

    select * from {{ ref('region_index_monthly') }}

),

current_items as (

    select * from {{ ref('region_index_items') }}

),

now_scored as (

    select
        current_units.scheme_code,
        current_units.month_start,
        current_units.region_code,
        current_units.region_name,
        current_units.score,
        current_units.rank_in_peer_group as rank,
        current_units.grade
    from current_units
    inner join latest
        using (scheme_code, month_start)

),

compared as (

    select
        coalesce(published.scheme_code, now_scored.scheme_code)    as scheme_code,
        coalesce(published.month_start, now_scored.month_start)    as month_start,
        coalesce(published.region_code, now_scored.region_code)    as region_code,
        coalesce(now_scored.region_name, published.region_name)    as region_name,
        published.score                                            as published_score,
        published.rank                                             as published_rank,
        published.grade                                            as published_grade,
        now_scored.score                                           as current_score,
        now_scored.rank                                            as current_rank,
        now_scored.grade                                           as current_grade
    from published
    full outer join now_scored
        on published.scheme_code = now_scored.scheme_code
        and published.month_start = now_scored.month_start
        and published.region_code = now_scored.region_code

),

items_moved as (

    select
        published_items.scheme_code,
        published_items.month_start,
        published_items.region_code,
        count(*) filter (
            where current_items.item_score is distinct from published_items.item_score
        ) as items_moved
    from published_items
    left join current_items
        on published_items.scheme_code = current_items.scheme_code
        and published_items.month_start = current_items.month_start
        and published_items.region_code = current_items.region_code
        and published_items.item_code = current_items.item_code
    group by 1, 2, 3

),

last_review as (

    select distinct on (scheme_code, month_start)
        scheme_code,
        month_start,
        reviewed_at,
        draft_id,
        changes
    from reviews
    order by scheme_code, month_start, reviewed_at desc

),

final as (

    select
        compared.scheme_code,
        compared.month_start,
        compared.region_code,
        compared.region_name,
        latest.revision                                            as published_revision,
        cast(compared.published_score as numeric(6, 2))                 as published_score,
        cast(compared.published_rank as integer)                       as published_rank,
        compared.published_grade,
        cast(compared.current_score as numeric(6, 2))                 as current_score,
        cast(compared.current_rank as integer)                       as current_rank,
        compared.current_grade,
        cast(compared.current_score - compared.published_score as numeric(8, 2))
                                                                   as score_change,
        cast(compared.published_rank - compared.current_rank as integer)
                                                                   as places_gained,
        compared.published_grade is distinct from compared.current_grade
                                                                   as grade_changed,
        (
            compared.published_score is distinct from compared.current_score
            or compared.published_rank is distinct from compared.current_rank
            or compared.published_grade is distinct from compared.current_grade
        )                                                          as has_changed,
        cast(items_moved.items_moved as integer)                   as items_moved,
        last_review.reviewed_at                                    as last_reviewed_at,
        exists (
            select 1
            from jsonb_array_elements(last_review.changes) as change
            where change ->> 'region_code' = compared.region_code
                and (change ->> 'material')::boolean
        )                                                          as last_review_material,
        last_review.draft_id                                       as last_review_draft_id
    from compared
    inner join latest
        on compared.scheme_code = latest.scheme_code
        and compared.month_start = latest.month_start
    left join items_moved
        on compared.scheme_code = items_moved.scheme_code
        and compared.month_start = items_moved.month_start
        and compared.region_code = items_moved.region_code
    left join last_review
        on compared.scheme_code = last_review.scheme_code
        and compared.month_start = last_review.month_start

)

select * from final
