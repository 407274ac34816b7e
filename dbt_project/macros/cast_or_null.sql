{#- Casts that give null instead of failing the model when a value cannot be read.
    File sources carry what people typed; one bad cell must not stop a build, and the
    row it sits in is quarantined by the model that checks the result for null.
    A value is cast only when it matches a regular expression that admits only
    values the cast accepts (PostgreSQL alone would also take 'now', 'epoch' or
    '8/3/24'), so no PostgreSQL 16 pg_input_is_valid is needed. Named *_or_null
    because dbt's own safe_cast macro must not be overridden (unit tests use it). -#}

{#- The generic form: pattern must admit only values that cast to data_type. -#}
{% macro cast_or_null(expr, data_type, pattern) -%}
    case when ({{ expr }}) ~ '{{ pattern }}' then cast(({{ expr }}) as {{ data_type }}) end
{%- endmacro %}

{#- A non-negative whole number such as a count (up to 9 digits, so it fits). -#}
{% macro integer_or_null(expr) -%}
    {{ cast_or_null(expr, 'integer', '^[0-9]{1,9}$') }}
{%- endmacro %}

{#- A non-negative amount, e.g. yuan; 11 integer digits, so rounding cannot overflow. -#}
{% macro amount_or_null(expr) -%}
    {{ cast_or_null(expr, 'numeric(14, 2)', '^[0-9]{1,11}([.][0-9]+)?$') }}
{%- endmacro %}

{#- The first day of a month written as the API writes it (2024-11, 2024-1) or as
    clerks type it (2024/11, 2024年11月, 2024年1月): one match decides, then the
    separators are normalised for the cast. The quality gate's MONTH format
    (expectations/_common.py) admits the same three. -#}
{% macro month_or_null(expr) -%}
    case
        when trim({{ expr }}) ~ '^[1-9][0-9]{3}(-|/|年)(0?[1-9]|1[0-2])月?$'
            then cast(
                regexp_replace(trim({{ expr }}), '^([0-9]{4})(-|/|年)([0-9]{1,2})月?$', '\1-\3-01')
                as date
            )
    end
{%- endmacro %}

{#- A date or date and time, year first: 2024-08-03, 2024/8/3 14:25, 2024-08-03 14:25:00.
    The pattern checks the ranges of every field; the day is then checked against the
    length of its month (2024-02-30 is null). Year, month and day are cut out with
    split_part, not captured with regexp_match (about 40 us a call). -#}
{% macro timestamp_or_null(expr) -%}
    {%- set dashed = "replace((" ~ expr ~ "), '/', '-')" -%}
    case
        when ({{ expr }}) ~ '^[1-9][0-9]{3}[-/](0?[1-9]|1[0-2])[-/](0?[1-9]|[12][0-9]|3[01])([ T]([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]+)?)?)?$'
            then {{ _day_fits_month(
                'cast(split_part(' ~ dashed ~ ", '-', 1) as integer)",
                'cast(split_part(' ~ dashed ~ ", '-', 2) as integer)",
                'cast(rtrim(left(split_part(' ~ dashed ~ ", '-', 3), 2), ' T') as integer)",
                'cast(' ~ dashed ~ ' as timestamp)') }}
    end
{%- endmacro %}

{#- then_expr when year y (1 or later), month m (1-12) and day d make a calendar date
    (leap years included), else null. Shared by the cast macros. -#}
{% macro _day_fits_month(y, m, d, then_expr) -%}
    case
        when {{ y }} >= 1
            and {{ d }} <= case
                when {{ m }} = 2 and ({{ y }} % 4 = 0 and {{ y }} % 100 <> 0
                                      or {{ y }} % 400 = 0) then 29
                when {{ m }} = 2 then 28
                when {{ m }} in (4, 6, 9, 11) then 30
                else 31
            end
            then {{ then_expr }}
    end
{%- endmacro %}
