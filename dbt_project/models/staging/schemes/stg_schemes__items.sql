with

source as (

    select * from {{ source('schemes', 'items') }}

),

final as (

    select
        scheme_code,
        scheme_version,
        item_code,
        indicator_code,
        category_code,
        metric_code,
        normalisation,
        smoothing,
        rule,
        if_no_data,
        baseline,
        per_unit,
        cap,
        target,
        floor,
        compare_to,
        min_count,
        better,
        threshold,
        veto_points,
        veto_grade
    from source

)

select * from final
