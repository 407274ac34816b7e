{#- Casts that give null instead of failing the model when a value cannot be read,
    for the traffic API's text columns. An API field arrives as the vendor wrote it
    ("0000-00-00 00:00:00", "2024-02-30", "未知"); one bad value must not stop the
    build, and the row it sits in is quarantined by the model that checks for null.

    These guards need no pg_input_is_valid (PostgreSQL 16+): the regular expression
    fixes the format and plain arithmetic checks the day against the month's length,
    leap years included, inside a CASE so that the cast is only reached by values
    PostgreSQL is certain to accept. -#}

{#- Year-first date or date and time: 2024-08-03, 2024-08-03 14:25, 2024-08-03T14:25:00.5;
    with data_type='timestamptz' an offset may follow (Z, +08, +0800, +08:00). A value
    without an offset is read in the session time zone.
    One regular expression, tested once, fixes the format and every field's range but
    the day's (hours 00-23, offsets up to 15 hours); fixed positions then give year,
    month and day as plain substrings for the day-of-month check. (Capturing them with
    regexp_match costs about 40 us a call, a dozen calls a value: 9.6 s for the
    17,699 accidents of a province month; substring costs next to nothing.) -#}
{% macro safe_cast_timestamp(expr, data_type='timestamp') -%}
    {%- set zoned = data_type in ('timestamptz', 'timestamp with time zone') -%}
    {%- if data_type not in ('timestamp', 'timestamp without time zone') and not zoned -%}
        {{ exceptions.raise_compiler_error(
            "safe_cast_timestamp: data_type must be timestamp or timestamptz, not " ~ data_type) }}
    {%- endif -%}
    {%- set pattern = '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])'
        ~ '([ T]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,6})?)?)?'
        ~ ('(Z|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)?' if zoned else '') ~ '$' -%}
    {%- set value = 'trim(' ~ expr ~ ')' -%}
    case
        when coalesce({{ value }} ~ '{{ pattern }}', false) then
            {{ _day_fits_month(
                'cast(substring(' ~ value ~ ' from 1 for 4) as integer)',
                'cast(substring(' ~ value ~ ' from 6 for 2) as integer)',
                'cast(substring(' ~ value ~ ' from 9 for 2) as integer)',
                'cast(' ~ value ~ ' as ' ~ data_type ~ ')') }}
    end
{%- endmacro %}

{#- A number written plainly (no thousands separators, no exponent): integers for
    smallint/integer/bigint, with an optional fraction for numeric. The digit limits
    keep the cast within the type's range. -#}
{% macro safe_cast_numeric(expr, data_type='numeric') -%}
    {%- set integer_digits = {'smallint': 4, 'integer': 9, 'int': 9, 'bigint': 18} -%}
    {%- if data_type in integer_digits -%}
        {%- set pattern = '^[+-]?[0-9]{1,' ~ integer_digits[data_type] ~ '}$' -%}
    {%- elif data_type == 'numeric' -%}
        {%- set pattern = '^[+-]?([0-9]{1,15}([.][0-9]{0,15})?|[.][0-9]{1,15})$' -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "safe_cast_numeric: data_type must be smallint, integer, bigint or numeric, not "
            ~ data_type) }}
    {%- endif -%}
    case
        when trim({{ expr }}) ~ '{{ pattern }}' then cast(trim({{ expr }}) as {{ data_type }})
    end
{%- endmacro %}

{#- A JSON array of strings (the API's vehicleTypes) as jsonb; anything else is null.
    Only escapes that jsonb always accepts are allowed (no \u, which could be \u0000). -#}
{% macro traffic_safe_cast_string_array(expr) -%}
    case
        when {{ expr }} ~ '^\[\s*("([^"\\[:cntrl:]]|\\["\\/bfnrt])*"(\s*,\s*"([^"\\[:cntrl:]]|\\["\\/bfnrt])*")*)?\s*\]$'
            then cast({{ expr }} as jsonb)
    end
{%- endmacro %}
