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

{#- The first day of a month written YYYY-MM (or YYYY-M). -#}
{% macro month_or_null(expr) -%}
    {{ cast_or_null("(" ~ expr ~ ") || '-01'", 'date', '^[1-9][0-9]{3}-(0?[1-9]|1[0-2])-01$') }}
{%- endmacro %}

{#- A date or date and time, year first: 2024-08-03, 2024/8/3 14:25, 2024-08-03 14:25:00.
    The pattern checks the ranges of every field; the day is then checked against the
    length of its month (2024-02-30 is null), inside the case so that make_date only
    ever sees a valid year and month. -#}
{% macro timestamp_or_null(expr) -%}
    case
        when ({{ expr }}) ~ '^[1-9][0-9]{3}[-/](0?[1-9]|1[0-2])[-/](0?[1-9]|[12][0-9]|3[01])([ T]([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]+)?)?)?$'
            then case
                when cast((regexp_match(({{ expr }}), '^[0-9]+[-/][0-9]+[-/]([0-9]+)'))[1] as integer)
                    <= extract(day from make_date(
                        cast((regexp_match(({{ expr }}), '^([0-9]+)'))[1] as integer),
                        cast((regexp_match(({{ expr }}), '^[0-9]+[-/]([0-9]+)'))[1] as integer),
                        1
                    ) + interval '1 month' - interval '1 day')
                    then cast(replace(({{ expr }}), '/', '-') as timestamp)
            end
    end
{%- endmacro %}
