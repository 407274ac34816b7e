{#- Grade, stars, warning and rank of every unit for every month under every scheme
    version, with the previous month's and the same month last year's rank and
    score under the same version (so a comparison is never across versions here;
    the marts say when the published months differ in version).
    Grain: scheme × version × region × month. -#}
with

totals as (

    select * from {{ ref('int_scheme_totals_summed') }}

),

versions as (

    select * from {{ ref('stg_schemes__versions') }}

),

grades as (

    select * from {{ ref('stg_schemes__grades') }}

),

stars as (

    select * from {{ ref('stg_schemes__stars') }}

),

ranked as (

    select
        totals.*,
        rank() over (
            partition by totals.scheme_code, totals.scheme_version, totals.month_start,
                totals.peer_group_code
            order by totals.total_score desc, totals.tie_break_1 desc nulls last,
                totals.tie_break_2 desc nulls last, totals.tie_break_3 desc nulls last
        )                                                   as rank_in_peer_group,
        count(*) over (
            partition by totals.scheme_code, totals.scheme_version, totals.month_start,
                totals.peer_group_code
        )                                                   as units_ranked
    from totals

),

score_grades as (

    select
        ranked.scheme_code,
        ranked.scheme_version,
        ranked.region_code,
        ranked.month_start,
        min(grades.sort_order)                              as score_grade_order
    from ranked
    inner join grades
        on ranked.scheme_code = grades.scheme_code
        and ranked.scheme_version = grades.scheme_version
        and ranked.total_score >= grades.min_score
        and (ranked.total_score < grades.max_score
             or (grades.sort_order = 1 and ranked.total_score <= grades.max_score))
    group by ranked.scheme_code, ranked.scheme_version, ranked.region_code, ranked.month_start

),

graded as (

    select
        ranked.*,
        score_grades.score_grade_order,
        greatest(score_grades.score_grade_order,
                 coalesce(ranked.grade_ceiling_order, 0))   as grade_order
    from ranked
    left join score_grades
        on ranked.scheme_code = score_grades.scheme_code
        and ranked.scheme_version = score_grades.scheme_version
        and ranked.region_code = score_grades.region_code
        and ranked.month_start = score_grades.month_start

),

with_grade as (

    select
        graded.*,
        grades.grade,
        grades.colour                                       as grade_colour
    from graded
    left join grades
        on graded.scheme_code = grades.scheme_code
        and graded.scheme_version = grades.scheme_version
        and graded.grade_order = grades.sort_order

),

starred as (

    select
        with_grade.scheme_code,
        with_grade.scheme_version,
        with_grade.region_code,
        with_grade.month_start,
        max(stars.stars)                                    as stars
    from with_grade
    inner join versions
        on with_grade.scheme_code = versions.scheme_code
        and with_grade.scheme_version = versions.scheme_version
    inner join stars
        on with_grade.scheme_code = stars.scheme_code
        and with_grade.scheme_version = stars.scheme_version
    where (versions.star_method = 'score_bands' and with_grade.total_score >= stars.min_score)
       or (versions.star_method = 'rank_share'
           and (with_grade.rank_in_peer_group - 1) * 1.0 / with_grade.units_ranked
               < stars.top_share)
    group by with_grade.scheme_code, with_grade.scheme_version,
        with_grade.region_code, with_grade.month_start

),

warned as (

    select
        with_grade.*,
        starred.stars,
        versions.escalate_after,
        case
            when versions.warning_red_below is null then null
            when with_grade.total_score < versions.warning_red_below then 'red'
            when with_grade.total_score < versions.warning_yellow_below then 'yellow'
            else 'green'
        end                                                 as warning_level,
        extract(year from with_grade.month_start) * 12
            + extract(month from with_grade.month_start)    as month_index
    from with_grade
    inner join versions
        on with_grade.scheme_code = versions.scheme_code
        and with_grade.scheme_version = versions.scheme_version
    left join starred
        on with_grade.scheme_code = starred.scheme_code
        and with_grade.scheme_version = starred.scheme_version
        and with_grade.region_code = starred.region_code
        and with_grade.month_start = starred.month_start

),

red_runs as (

    select
        warned.*,
        max(case when warning_level is distinct from 'red' then month_index end) over unit_history
                                                            as last_not_red_index,
        min(month_index) over unit_history                  as first_index
    from warned
    window unit_history as (
        partition by scheme_code, scheme_version, region_code
        order by month_index
        rows between unbounded preceding and current row
    )

),

counted as (

    select
        red_runs.*,
        case
            when warning_level = 'red'
                then month_index - coalesce(last_not_red_index, first_index - 1)
            else 0
        end                                                 as consecutive_reds
    from red_runs

),

with_history as (

    select
        counted.*,
        previous_month.rank_in_peer_group                   as previous_rank,
        previous_month.total_score                          as previous_score,
        last_year.rank_in_peer_group                        as last_year_rank,
        last_year.total_score                               as last_year_score
    from counted
    left join counted as previous_month
        on counted.scheme_code = previous_month.scheme_code
        and counted.scheme_version = previous_month.scheme_version
        and counted.region_code = previous_month.region_code
        and counted.peer_group_code = previous_month.peer_group_code
        and previous_month.month_start = cast(counted.month_start - interval '1 month' as date)
    left join counted as last_year
        on counted.scheme_code = last_year.scheme_code
        and counted.scheme_version = last_year.scheme_version
        and counted.region_code = last_year.region_code
        and counted.peer_group_code = last_year.peer_group_code
        and last_year.month_start = cast(counted.month_start - interval '12 months' as date)

),

final as (

    select
        scheme_code,
        scheme_version,
        region_code,
        peer_group_code,
        month_start,
        tree_score,
        adjustment_points,
        cap_adjustment,
        total_score,
        grade,
        grade_colour,
        veto_fired,
        cast(stars as integer)                              as stars,
        warning_level,
        cast(consecutive_reds as integer)                   as consecutive_reds,
        coalesce(consecutive_reds >= escalate_after, false) as escalated,
        cast(rank_in_peer_group as integer)                 as rank_in_peer_group,
        cast(units_ranked as integer)                       as units_ranked,
        cast(previous_rank as integer)                      as previous_rank,
        previous_score,
        cast(last_year_rank as integer)                     as last_year_rank,
        last_year_score
    from with_history

)

select * from final
