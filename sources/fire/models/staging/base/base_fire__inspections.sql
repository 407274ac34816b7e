{#- Every raw supervision-inspection row, renamed, cleaned, safely cast and checked;
    parse_issue says why a row cannot be staged (null = it can). The natural key is
    (stat_month, township_code): a row whose month or town cannot be read has no key
    and can only be quarantined. See base_fire__fires for how the two uses split. -#}
with

source as (

    select * from {{ source('fire', 'inspections') }}

),

files as (

    select * from {{ source('fire', 'files') }}

),

regions as (

    select * from {{ ref('stg_regions__regions') }}

),

-- materialized: each cleaned value is computed once per row; inlined, every reference
-- below re-ran its regular expressions (base_fire__fires, 5,117 rows: 6.1 s, now 0.4 s)
cleaned as materialized (

    select
        -- 2024-08 as exported; 2024年8月 as people also type it (month_or_null reads both)
        {{ clerk_text('tjyf') }}                         as stat_month_text,
        {{ clerk_text('xzqhdm') }}                       as region_code,
        nullif(trim(xzjdmc), '')                        as township_name,
        {{ clerk_number('jcdws') }}                      as units_inspected_text,
        {{ clerk_number('fxyhs') }}                      as hazards_found_text,
        {{ clerk_number('zgyhs') }}                      as hazards_rectified_text,
        {{ clerk_number('zlgztzs') }}                    as rectification_notices_text,
        {{ clerk_number('xzcfs') }}                      as penalties_text,
        {{ clerk_number('fkje') }}                       as fines_text,
        _batch_id                                       as batch_id,
        _extracted_at                                   as extracted_at,
        _source_file                                    as source_file,
        _source_row                                     as source_row
    from source

),

typed as (

    select
        cleaned.*,
        {{ month_or_null('stat_month_text') }}         as stat_month,
        -- an empty count cell means none
        case when units_inspected_text is null then 0
             else {{ integer_or_null('units_inspected_text') }} end
                                                        as units_inspected,
        case when hazards_found_text is null then 0
             else {{ integer_or_null('hazards_found_text') }} end
                                                        as hazards_found,
        case when hazards_rectified_text is null then 0
             else {{ integer_or_null('hazards_rectified_text') }} end
                                                        as hazards_rectified,
        case when rectification_notices_text is null then 0
             else {{ integer_or_null('rectification_notices_text') }} end
                                                        as rectification_notices,
        case when penalties_text is null then 0
             else {{ integer_or_null('penalties_text') }} end
                                                        as penalties,
        case when fines_text is null then 0
             else {{ amount_or_null('fines_text') }} end   as fines_yuan
    from cleaned

),

placed as (

    select
        typed.*,
        regions.region_level,
        files.rows_from,
        files.rows_until
    from typed
    left join regions
        on typed.region_code = regions.region_code
    left join files
        on typed.batch_id = files.batch_id

),

checked as (

    select
        placed.*,
        case
            when stat_month_text is null then 'missing statistics month'
            when stat_month is null then 'unparseable statistics month'
            when stat_month < rows_from or stat_month >= rows_until then 'wrong month'
            when region_code is null then 'missing region code'
            when region_code !~ '^[0-9]{6}([0-9]{3}([0-9]{3})?)?$' then 'malformed region code'
            when region_level is null then 'region code not in the region master'
            when region_level <> 'township' then 'region code is not a township'
            when units_inspected is null or hazards_found is null or hazards_rectified is null
                or rectification_notices is null or penalties is null or fines_yuan is null
                then 'unparseable count or amount'
        end                                             as parse_issue
    from placed

),

final as (

    select
        stat_month,
        stat_month_text,
        region_code,
        township_name,
        units_inspected,
        hazards_found,
        hazards_rectified,
        rectification_notices,
        penalties,
        fines_yuan,
        parse_issue,
        batch_id,
        extracted_at,
        source_file,
        source_row
    from checked

)

select * from final
