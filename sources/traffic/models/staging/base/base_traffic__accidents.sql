{#- Every raw accident row (every version, every batch), renamed, safely cast,
    placed at a village or town of the region master and ranked among the rows of
    its accident number. parse_issue says why a row cannot be staged (null = it
    can). stg_traffic__accidents stages the current row (is_current) of each
    accident when it has no issue, int_traffic_records_quarantined when it has one;
    every other row is superseded (an older version, or a duplicate copy of the
    current one). All three read this one model, so they cannot disagree. -#}
with

source as (

    select * from {{ source('traffic', 'accidents') }}

),

regions as (

    select * from {{ ref('stg_regions__regions') }}

),

cleaned as (

    select
        nullif(trim(accident_no), '')                   as accident_no,
        nullif(trim(occur_time), '')                    as occurred_at_text,
        nullif(trim(location), '')                      as location,
        nullif(trim(area_code), '')                     as region_code,
        nullif(trim(death_count), '')                   as deaths_text,
        nullif(trim(injury_count), '')                  as injuries_text,
        nullif(trim(vehicle_types), '')                 as vehicle_types_text,
        nullif(trim(update_time), '')                   as source_updated_at_text,
        reporter_phone_hash,
        _batch_id                                       as batch_id,
        _extracted_at                                   as extracted_at,
        _source_ref                                     as source_ref
    from source

),

typed as (

    select
        cleaned.*,
        {{ safe_cast_timestamp('occurred_at_text') }}   as occurred_at,
        {{ safe_cast_numeric('deaths_text', 'integer') }}
                                                        as deaths,
        {{ safe_cast_numeric('injuries_text', 'integer') }}
                                                        as injuries,
        {{ traffic_safe_cast_string_array('vehicle_types_text') }}
                                                        as vehicle_types,
        {{ safe_cast_timestamp('source_updated_at_text', 'timestamptz') }}
                                                        as source_updated_at
    from cleaned

),

placed as (

    select
        typed.*,
        regions.region_level,
        {{ placed_village_code('regions') }} as village_code,
        {{ placed_township_code('regions') }} as township_code
    from typed
    left join regions
        on typed.region_code = regions.region_code

),

checked as (

    select
        placed.*,
        case
            when accident_no is null then 'missing accident number'
            when occurred_at_text is null then 'missing occurred time'
            when occurred_at is null then 'unparseable occurred time'
            when deaths is null or injuries is null then 'missing or unparseable casualty count'
            when vehicle_types_text is not null and vehicle_types is null
                then 'unparseable vehicle types'
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
        -- the latest version by source update time; between copies of one version,
        -- the latest batch, then the last copy of the page. A row without an
        -- accident number cannot be matched with anything: it is its own group.
        row_number() over (
            partition by coalesce(accident_no, batch_id || ' ' || source_ref)
            order by source_updated_at desc nulls last, extracted_at desc, batch_id desc,
                source_ref desc
        )                                               as version_rank
    from checked

),

final as (

    select
        accident_no,
        occurred_at,
        occurred_at_text,
        location,
        region_code,
        village_code,
        township_code,
        deaths,
        injuries,
        vehicle_types,
        reporter_phone_hash,
        source_updated_at,
        version_rank,
        version_rank = 1                                as is_current,
        parse_issue,
        batch_id,
        extracted_at,
        source_ref
    from ranked

)

select * from final
