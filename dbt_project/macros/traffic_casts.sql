{#- Casts that give null instead of failing the model when a value cannot be read,
    for the traffic API's text columns. An API field arrives as the vendor wrote it
    ("0000-00-00 00:00:00", "2024-02-30", "未知"); one bad value must not stop the
    build, and the row it sits in is quarantined by the model that checks for null.

    Unlike safe_cast.sql these guards need no pg_input_is_valid (PostgreSQL 16+):
    the regular expression fixes the format and plain arithmetic checks every field's
    range (the day against the month's length, leap years included), inside a CASE so
    that the cast is only reached by values PostgreSQL is certain to accept. -#}

{#- Year-first date or date and time: 2024-08-03, 2024-08-03 14:25, 2024-08-03T14:25:00.5;
    with data_type='timestamptz' an offset may follow (Z, +08, +0800, +08:00). A value
    without an offset is read in the session time zone. -#}
{% macro safe_cast_timestamp(expr, data_type='timestamp') -%}
    {%- set zoned = data_type in ('timestamptz', 'timestamp with time zone') -%}
    {%- if data_type not in ('timestamp', 'timestamp without time zone') and not zoned -%}
        {{ exceptions.raise_compiler_error(
            "safe_cast_timestamp: data_type must be timestamp or timestamptz, not " ~ data_type) }}
    {%- endif -%}
    {%- set pattern = '^([0-9]{4})-([0-9]{2})-([0-9]{2})'
        ~ '([ T]([0-9]{2}):([0-9]{2})(:([0-9]{2})([.][0-9]{1,6})?)?)?'
        ~ ('(Z|[+-]([0-9]{2})(:?([0-9]{2}))?)?' if zoned else '') ~ '$' -%}
    {%- set value = 'trim(' ~ expr ~ ')' -%}
    {%- set part = "(regexp_match(" ~ value ~ ", '" ~ pattern ~ "'))" -%}
    {%- set y = 'cast(' ~ part ~ '[1] as integer)' -%}
    {%- set m = 'cast(' ~ part ~ '[2] as integer)' -%}
    case
        when coalesce({{ value }} ~ '{{ pattern }}', false) then
            case
                when {{ y }} >= 1
                    and {{ m }} between 1 and 12
                    and cast({{ part }}[3] as integer) between 1 and
                        case
                            when {{ m }} = 2 and ({{ y }} % 4 = 0 and {{ y }} % 100 <> 0
                                                  or {{ y }} % 400 = 0) then 29
                            when {{ m }} = 2 then 28
                            when {{ m }} in (4, 6, 9, 11) then 30
                            else 31
                        end
                    and cast(coalesce({{ part }}[5], '0') as integer) <= 23
                    and cast(coalesce({{ part }}[6], '0') as integer) <= 59
                    and cast(coalesce({{ part }}[8], '0') as integer) <= 59
                    {%- if zoned %}
                    and cast(coalesce({{ part }}[11], '0') as integer) <= 15
                    and cast(coalesce({{ part }}[13], '0') as integer) <= 59
                    {%- endif %}
                    then cast({{ value }} as {{ data_type }})
            end
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
