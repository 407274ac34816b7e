{#- Grade, stars, warning and rank of every unit for every month under every scheme
    version, with the previous month's and the same month last year's rank and
    score under the same version (so a comparison is never across versions here;
    the marts say when the published months differ in version); the previous month's
    as published when it was (its revision in force), else as scored now.
    Rank: highest total first, then the tie-break key (every `tie_break` category in
    order); equal on both share a rank.
    Red runs: a red month counts itself and the months before it as published, in
    order, back to the last published month that was not red; a month never
    published (not scored, or scored but not issued) neither counts nor breaks the
    run, and a published month counts with the version that published it, so a new
    version's restated history never counts. `red_run_months` lists the months
    counted (ISO first days, oldest first).
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

publications as (

    select * from {{ ref('stg_publish__publications') }}

),

published_units as (

    select * from {{ ref('int_publication_units_in_force_selected') }}

),

ranked as (

    select
        totals.*,
        rank() over (
            partition by totals.scheme_code, totals.scheme_version, totals.month_start,
                totals.peer_group_code
            order by totals.total_score desc, totals.tie_break_key asc nulls last
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
        end                                                 as warning_level
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

scored_months as (

    select distinct scheme_code, month_start
    from totals

),

applied_versions as (

    {#- the version that publishes each month: the latest whose valid_from is not
        after it (as int_scheme_versions_applied, which reads this model) -#}
    select
        scored_months.scheme_code,
        scored_months.month_start,
        max(versions.scheme_version)                        as scheme_version
    from scored_months
    inner join versions
        on scored_months.scheme_code = versions.scheme_code
        and versions.valid_from <= scored_months.month_start
    group by scored_months.scheme_code, scored_months.month_start

),

issued_months as (

    select distinct scheme_code, month_start
    from publications

),

published_warnings as (

    {#- every month that has been published, as its latest revision says it: the
        warning under the version that publishes the month (a month whose data changed
        after it was published is re-issued with these values by the same run,
        publish.publications.revise_published) -#}
    select
        warned.scheme_code,
        warned.region_code,
        warned.month_start,
        coalesce(warned.warning_level = 'red', false)       as is_red
    from warned
    inner join applied_versions
        on warned.scheme_code = applied_versions.scheme_code
        and warned.scheme_version = applied_versions.scheme_version
        and warned.month_start = applied_versions.month_start
    inner join issued_months
        on warned.scheme_code = issued_months.scheme_code
        and warned.month_start = issued_months.month_start

),

red_histories as (

    {#- for every red row, the published months before it -#}
    select
        red.scheme_code,
        red.scheme_version,
        red.region_code,
        red.month_start,
        published.month_start                               as published_month,
        published.is_red
    from warned as red
    inner join published_warnings as published
        on red.scheme_code = published.scheme_code
        and red.region_code = published.region_code
        and published.month_start < red.month_start
    where red.warning_level = 'red'

),

last_breaks as (

    select
        scheme_code,
        scheme_version,
        region_code,
        month_start,
        max(case when not is_red then published_month end) as last_break_month
    from red_histories
    group by scheme_code, scheme_version, region_code, month_start

),

run_months as (

    {#- the red row's own month, and the published red months since the last
        published month that was not red -#}
    select
        scheme_code,
        scheme_version,
        region_code,
        month_start,
        month_start                                         as run_month
    from warned
    where warning_level = 'red'

    union all

    select
        red_histories.scheme_code,
        red_histories.scheme_version,
        red_histories.region_code,
        red_histories.month_start,
        red_histories.published_month                       as run_month
    from red_histories
    left join last_breaks
        on red_histories.scheme_code = last_breaks.scheme_code
        and red_histories.scheme_version = last_breaks.scheme_version
        and red_histories.region_code = last_breaks.region_code
        and red_histories.month_start = last_breaks.month_start
    where red_histories.is_red
        and (last_breaks.last_break_month is null
             or red_histories.published_month > last_breaks.last_break_month)

),

red_runs as (

    select
        scheme_code,
        scheme_version,
        region_code,
        month_start,
        count(*)                                            as consecutive_reds,
        {{ dbt.listagg('cast(run_month as ' ~ dbt.type_string() ~ ')', "','",
                       'order by run_month') }}             as red_run_months
    from run_months
    group by scheme_code, scheme_version, region_code, month_start

),

counted as (

    select
        warned.*,
        coalesce(red_runs.consecutive_reds, 0)              as consecutive_reds,
        red_runs.red_run_months
    from warned
    left join red_runs
        on warned.scheme_code = red_runs.scheme_code
        and warned.scheme_version = red_runs.scheme_version
        and warned.region_code = red_runs.region_code
        and warned.month_start = red_runs.month_start

),

published_months as (

    {{ published_previous_month('published_units', 'publications', [
        ('published_units.rank', 'published_rank'),
        ('published_units.score', 'published_score'),
    ]) }}

),

with_history as (

    {#- Last month as it was published (its revision in force) when it was published
        under the same version, else as the data give it now: a month is compared
        with what its readers were told, and a revision issued since replaces it. -#}
    select
        counted.*,
        coalesce(
            published_previous.published_rank, previous_month.rank_in_peer_group
        )                                                   as previous_rank,
        coalesce(
            published_previous.published_score, previous_month.total_score
        )                                                   as previous_score,
        last_year.rank_in_peer_group                        as last_year_rank,
        last_year.total_score                               as last_year_score
    from counted
    left join counted as previous_month
        on counted.scheme_code = previous_month.scheme_code
        and counted.scheme_version = previous_month.scheme_version
        and counted.region_code = previous_month.region_code
        and counted.peer_group_code = previous_month.peer_group_code
        and previous_month.month_start = cast(counted.month_start - interval '1 month' as date)
    left join published_months as published_previous
        on counted.scheme_code = published_previous.scheme_code
        and counted.scheme_version = published_previous.scheme_version
        and counted.region_code = published_previous.region_code
        and counted.month_start = published_previous.next_month_start
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
        red_run_months,
        cast(rank_in_peer_group as integer)                 as rank_in_peer_group,
        cast(units_ranked as integer)                       as units_ranked,
        cast(previous_rank as integer)                      as previous_rank,
        previous_score,
        cast(last_year_rank as integer)                     as last_year_rank,
        last_year_score
    from with_history

)

select * from final
