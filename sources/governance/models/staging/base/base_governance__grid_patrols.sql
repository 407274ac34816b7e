{{ incremental_versions_config('patrol_no') }}
{#- Every raw grid-patrol row (every version from every batch), renamed, typed and
    the patrol type code mapped. The counts are typed in by grid workers: each is
    cast only when it is a whole number (else null), and its text is kept for the
    quarantine reason. version_rank 1 is the latest version of a patrol (latest
    source update, then latest extract, then batch id). -#}
with

source as (

    select * from {{ source('governance', 'grid_patrols') }}
    {{ incremental_versions_filter('xcbh', source('governance', 'grid_patrols')) }}

),

renamed as (

    select
        xcbh                                    as patrol_no,
        cast(xcrq as date)                      as patrol_on,
        xzqhdm                                  as region_code,
        xclx                                    as patrol_type_code,
        nullif(trim(fxwts), '')                 as issues_found_text,
        nullif(trim(zgwts), '')                 as issues_rectified_text,
        wgydh_hash                              as grid_worker_phone_hash,
        cast(gxsj as timestamp)                 as source_updated_at,
        _batch_id                               as batch_id,
        _extracted_at                           as extracted_at,
        _source_ref                             as source_ref
    from source

),

typed as (

    select
        *,
        {{ integer_or_null('issues_found_text') }}         as issues_found,
        {{ integer_or_null('issues_rectified_text') }}     as issues_rectified
    from renamed

),

mapped as (

    select
        *,
        case patrol_type_code
            when '01' then 'rental'
            when '02' then 'production_safety'
            when '03' then 'fire_hazard'
            when '04' then 'hotspot'
            when '05' then 'routine'
        end                                     as patrol_type_key
    from typed

),

versioned as (

    select
        *,
        row_number() over (
            partition by patrol_no
            order by source_updated_at desc, extracted_at desc, batch_id desc
        ) as version_rank
    from mapped

),

final as (

    select
        patrol_no,
        patrol_on,
        cast({{ dbt.date_trunc('month', 'patrol_on') }} as date) as patrol_month,
        region_code,
        patrol_type_code,
        patrol_type_key,
        issues_found_text,
        issues_found,
        issues_rectified_text,
        issues_rectified,
        grid_worker_phone_hash,
        source_updated_at,
        batch_id,
        extracted_at,
        source_ref,
        version_rank
    from versioned

)

select * from final
