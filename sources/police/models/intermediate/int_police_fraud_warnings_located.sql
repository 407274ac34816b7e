{#- Places every anti-fraud warning at a village and/or township by its region code,
    as the incidents' first step does: a village code at the village and its parent
    town, a town code at the town. The warnings carry no address or coordinates, so
    anything else (no code, a county code, a code not in the master) keeps a
    quarantine_reason and is excluded from the metrics. -#}
with

warnings as (

    select * from {{ ref('stg_police__fraud_warnings') }}

),

regions as (

    select * from {{ ref('stg_regions__regions') }}

),

by_code as (

    select
        warnings.*,
        {{ placed_village_code('regions') }} as village_code,
        {{ placed_township_code('regions') }} as township_code
    from warnings
    left join regions
        on warnings.region_code = regions.region_code

),

final as (

    select
        warning_no,
        warned_at,
        warned_month,
        warning_type,
        dissuasion_result,
        stopped_amount_yuan,
        region_code,
        village_code,
        township_code,
        case when township_code is not null then 'region_code' end as placement_method,
        batch_id,
        source_ref,
        case
            when township_code is not null then null
            when region_code is null then 'no region code'
            else 'region code ' || region_code || ' not placeable at a village or township'
        end                                                     as quarantine_reason
    from by_code

)

select * from final
