{#- Every raw violation-statistics row (every batch), renamed, safely cast, mapped
    to a violation key and placed at a village or town of the region master.
    A batch is the whole of one month as the API answered it, so the latest batch
    of a month replaces the earlier ones entirely (a figure the vendor revised or
    withdrew does not linger); within it, copies of one region × month × type are
    one row. is_current marks the row that stands; parse_issue says why it cannot
    be staged (null = it can). -#}
with

source as (

    select * from {{ source('traffic', 'violations') }}

),

batches as (

    select * from {{ source('traffic', 'batches') }}

),

violation_types as (

    select * from {{ ref('traffic_violation_types') }}

),

regions as (

    select * from {{ ref('stg_regions__regions') }}

),

cleaned as (

    select
        nullif(trim(area_code), '')                     as region_code,
        nullif(trim(stat_month), '')                    as stat_month_text,
        nullif(trim(violation_code), '')                as violation_code,
        nullif(trim(violation_name), '')                as violation_name,
        nullif(trim(violation_count), '')               as violation_count_text,
        nullif(trim(update_time), '')                   as source_updated_at_text,
        _batch_id                                       as batch_id,
        _extracted_at                                   as extracted_at,
        _source_ref                                     as source_ref
    from source

),

typed as (

    select
        cleaned.*,
        {{ month_or_null('stat_month_text') }}         as stat_month,
        {{ safe_cast_numeric('violation_count_text', 'integer') }}
                                                        as violation_count,
        {{ safe_cast_timestamp('source_updated_at_text', 'timestamptz') }}
                                                        as source_updated_at
    from cleaned

),

with_batch as (

    select
        typed.*,
        -- the month the batch asked for (its window starts at that month's first instant)
        cast(
            timezone('{{ var("pingan_timezone", "Asia/Shanghai") }}', batches.window_start)
            as date
        )                                               as requested_month
    from typed
    left join batches
        on typed.batch_id = batches.batch_id

),

mapped as (

    select
        with_batch.*,
        violation_types.violation_key
    from with_batch
    left join violation_types
        on with_batch.violation_code = violation_types.violation_code

),

placed as (

    select
        mapped.*,
        regions.region_level,
        {{ placed_township_code('regions') }} as township_code
    from mapped
    left join regions
        on mapped.region_code = regions.region_code

),

checked as (

    select
        placed.*,
        case
            when stat_month_text is null then 'missing stat month'
            when stat_month is null then 'unparseable stat month'
            when stat_month <> requested_month then 'stat month is not the month requested'
            when violation_code is null then 'missing violation code'
            when violation_key is null then 'unknown violation code'
            when violation_count is null then 'missing or unparseable violation count'
            when region_code is null then 'missing region code'
            when region_code !~ '^[0-9]{6}([0-9]{3}([0-9]{3})?)?$' then 'malformed region code'
            when region_level is null then 'region code not in the region master'
            when township_code is null then 'region code above township level'
        end                                             as parse_issue
    from placed

),

ranked as (

    select
        checked.*,
        dense_rank() over (
            partition by requested_month
            order by extracted_at desc, batch_id desc
        )                                               as batch_rank,
        -- copies within a batch; a row with an incomplete key is its own group
        row_number() over (
            partition by
                batch_id,
                case
                    when region_code is null or stat_month is null or violation_code is null
                        then source_ref
                    else concat_ws('|', region_code, stat_month, violation_code)
                end
            order by source_updated_at desc nulls last, source_ref desc
        )                                               as copy_rank
    from checked

),

final as (

    select
        region_code,
        township_code,
        stat_month,
        stat_month_text,
        requested_month,
        violation_code,
        violation_key,
        violation_name,
        violation_count,
        source_updated_at,
        batch_rank = 1 and copy_rank = 1                as is_current,
        parse_issue,
        batch_id,
        extracted_at,
        source_ref
    from ranked

)

select * from final
