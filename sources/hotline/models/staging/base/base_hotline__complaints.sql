{#- Every raw work-order row (every version, every batch), renamed, safely cast,
    placed at a village or town of the region master and ranked among the rows of
    its order number. parse_issue says why a row cannot be staged (null = it can).
    stg_hotline__complaints stages the current row (is_current) of each order when
    it has no issue, int_hotline_records_quarantined when it has one; every other
    row is superseded (an older version, or a repeated copy of the current one). -#}
with

source as (

    select * from {{ source('hotline', 'complaints') }}

),

regions as (

    select * from {{ ref('stg_regions__regions') }}

),

categories as (

    select * from {{ ref('hotline_categories') }}

),

cleaned as (

    select
        nullif(trim(order_no), '')                      as order_no,
        nullif(trim(accept_time), '')                   as accepted_at_text,
        nullif(trim(area_code), '')                     as region_code,
        nullif(trim(category), '')                      as category,
        nullif(trim(appeal_type), '')                   as appeal_type,
        nullif(trim(status), '')                        as status,
        nullif(trim(finish_time), '')                   as finished_at_text,
        nullif(trim(satisfaction), '')                  as satisfaction,
        nullif(trim(update_time), '')                   as source_updated_at_text,
        caller_phone_hash,
        _batch_id                                       as batch_id,
        _extracted_at                                   as extracted_at,
        _source_ref                                     as source_ref
    from source

),

typed as (

    select
        cleaned.*,
        {{ safe_cast_timestamp('accepted_at_text') }}   as accepted_at,
        {{ safe_cast_timestamp('finished_at_text') }}   as finished_at,
        {{ safe_cast_timestamp('source_updated_at_text', 'timestamptz') }}
                                                        as source_updated_at
    from cleaned

),

mapped as (

    select
        typed.*,
        categories.category_key,
        coalesce(categories.is_public_safety, false)    as is_public_safety
    from typed
    left join categories
        on typed.category = categories.category

),

placed as (

    select
        mapped.*,
        regions.region_level,
        {{ placed_village_code('regions') }} as village_code,
        {{ placed_township_code('regions') }} as township_code
    from mapped
    left join regions
        on mapped.region_code = regions.region_code

),

checked as (

    select
        placed.*,
        case
            when order_no is null then 'missing order number'
            when accepted_at_text is null then 'missing accept time'
            when accepted_at is null then 'unparseable accept time'
            when category_key is null then 'unknown category'
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
        -- the latest batch, then the last copy of the page. A row without an order
        -- number cannot be matched with anything: it is its own group.
        row_number() over (
            partition by coalesce(order_no, batch_id || ' ' || source_ref)
            order by source_updated_at desc nulls last, extracted_at desc, batch_id desc,
                source_ref desc
        )                                               as version_rank
    from checked

),

final as (

    select
        order_no,
        accepted_at,
        accepted_at_text,
        region_code,
        village_code,
        township_code,
        category,
        category_key,
        is_public_safety,
        appeal_type,
        status,
        finished_at,
        satisfaction,
        caller_phone_hash,
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
