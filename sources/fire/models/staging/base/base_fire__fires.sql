{#- Every raw fire row (every version, every batch), renamed, cleaned, safely cast
    and checked. parse_issue says why a row cannot be staged (null = it can): its
    fields cannot be read, its fire time lies outside its file's month (and the late
    window before it, raw._files.rows_from/rows_until: `wrong month`), or its region
    cannot be placed at a village or town of the region master. stg_fire__fires
    stages the latest clean version of each fire; int_fire_records_quarantined keeps
    the rest that no later version supersedes. Both read this one parse, so they cannot disagree about a row. -#}
with

source as (

    select * from {{ source('fire', 'fires') }}

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
        {{ clerk_text('hzbh') }}                         as fire_no,
        {{ clerk_timestamp('qhsj') }}                    as fired_at_text,
        nullif(trim(qhdz), '')                          as address,
        {{ clerk_text('xzqhdm') }}                       as region_code,
        nullif(trim(qhyy), '')                          as cause,
        {{ clerk_number('swrs') }}                       as deaths_text,
        {{ clerk_number('ssrs') }}                       as injuries_text,
        {{ clerk_number('zjccss') }}                     as direct_loss_text,
        _batch_id                                       as batch_id,
        _extracted_at                                   as extracted_at,
        _source_file                                    as source_file,
        _source_row                                     as source_row
    from source

),

typed as (

    select
        cleaned.*,
        {{ timestamp_or_null('fired_at_text') }}           as fired_at,
        -- an empty casualty or loss cell means none
        case when deaths_text is null then 0
             else {{ integer_or_null('deaths_text') }} end as deaths,
        case when injuries_text is null then 0
             else {{ integer_or_null('injuries_text') }} end
                                                        as injuries,
        case when direct_loss_text is null then 0
             else {{ amount_or_null('direct_loss_text') }} end
                                                        as direct_loss_yuan
    from cleaned

),

placed as (

    select
        typed.*,
        regions.region_level,
        {{ placed_village_code('regions') }} as village_code,
        {{ placed_township_code('regions') }} as township_code,
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
            when fire_no is null then 'missing fire number'
            when fired_at_text is null then 'missing fire time'
            when fired_at is null then 'unparseable fire time'
            when cast(fired_at as date) < rows_from or cast(fired_at as date) >= rows_until
                then 'wrong month'
            when region_code is null then 'missing region code'
            when region_code !~ '^[0-9]{6}([0-9]{3}([0-9]{3})?)?$' then 'malformed region code'
            when region_level is null then 'region code not in the region master'
            when township_code is null then 'region code above township level'
            when deaths is null or injuries is null or direct_loss_yuan is null
                then 'unparseable casualty or loss figure'
        end                                             as parse_issue
    from placed

),

final as (

    select
        fire_no,
        fired_at,
        fired_at_text,
        address,
        region_code,
        village_code,
        township_code,
        cause,
        deaths,
        injuries,
        direct_loss_yuan,
        parse_issue,
        batch_id,
        extracted_at,
        source_file,
        source_row
    from checked

)

select * from final
