with

source as (

    select * from {{ source('schemes', 'versions') }}

),

final as (

    select
        scheme_code,
        scheme_version,
        scheme_name,
        valid_from,
        ranked_level,
        peer_level,
        scope_code,
        total_points,
        total_cap,
        total_label,
        star_method,
        warning_red_below,
        warning_yellow_below,
        escalate_after,
        source_file,
        source_sha256,
        loaded_at
    from source

)

select * from final
