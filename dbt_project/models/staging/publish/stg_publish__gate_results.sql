with

source as (

    select * from {{ source('publish', 'gate_results') }}

),

final as (

    select
        gate_result_id,
        month_start,
        passed                                  as is_passed,
        reason,
        dag_run_id,
        checked_at
    from source

)

select * from final
