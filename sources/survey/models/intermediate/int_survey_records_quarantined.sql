{#- Survey rows that cannot be staged, with the reason: a field that cannot be read
    (quarter, sample size, a score, or a score outside 0-100) or a region that is
    not a township of the master. One row per raw row: nothing is collapsed here.

    A bad row is not quarantined when a later clean version of the same township and
    quarter is staged (a corrected re-export fixed it): it is then a superseded
    version, counted by int_survey_batches_reconciled. A bad row later than the
    staged version stays here, so a correction that broke a record is visible. -#}
with

scores as (

    select * from {{ ref('base_survey__scores') }}

),

staged_scores as (

    select * from {{ ref('stg_survey__scores') }}

),

quarantined as (

    select
        'scores'                                        as source_entity,
        scores.batch_id,
        scores.source_file,
        scores.source_row,
        concat_ws(' ', scores.quarter_text, scores.region_code)
                                                        as record_key,
        scores.region_code,
        scores.parse_issue                              as quarantine_reason
    from scores
    left join staged_scores
        on scores.quarter_start = staged_scores.quarter_start
        and scores.region_code = staged_scores.township_code
        and (staged_scores.extracted_at, staged_scores.batch_id, staged_scores.source_file, staged_scores.source_row)
            > (scores.extracted_at, scores.batch_id, scores.source_file, scores.source_row)
    where scores.parse_issue is not null
        and staged_scores.township_code is null

),

final as (

    select * from quarantined

)

select * from final
