{#- Values as clerks type them, made readable before a cast (issue 16). A file source's
    base model reads each cell through one of these, so that a value a person reads
    without trouble is not quarantined: the cast macros (cast_or_null.sql) then see
    the one form they check. Raw keeps what was sent; only the reading is wider.
    NFKC first: full-width digits, letters and punctuation become ASCII (１２３ → 123,
    ２０２４／１０／３ → 2024/10/3). An empty or blank cell is null. -#}

{#- Text: NFKC, trimmed, null when empty. -#}
{% macro clerk_text(expr) -%}
    nullif(trim(normalize({{ expr }}, NFKC)), '')
{%- endmacro %}

{#- A number: also without spaces and thousands separators (1,200 / 1 200 → 1200)
    and without a counting unit after a digit (3人, 2起, 5处, 1,200元 → 3, 2, 5, 1200;
    万元 is a different magnitude and stays, so the value is quarantined, not read
    10,000 times too small). -#}
{% macro clerk_number(expr) -%}
    nullif(
        regexp_replace(
            regexp_replace(normalize({{ expr }}, NFKC), '[[:space:],]', '', 'g'),
            '([0-9])(人|起|处|家|个|次|件|户|元)$', '\1'
        ),
        ''
    )
{%- endmacro %}

{#- A date or date and time, written year first as timestamp_or_null reads it
    (2024-10-03 14:20:00): from 2024年10月3日 14时20分, 2024.10.3 14:20, 2024/10/3,
    2024-10-3 14:5 (a one-digit minute or second is padded), or an Excel serial date
    left as a number (45568.5972 → 2024-10-03 14:20, read for the years 2000 to 2099
    only, so that a count is never taken for a date). Anything else is passed on as
    typed, for the cast to refuse. -#}
{% macro clerk_timestamp(expr) -%}
    (
        select case
            when typed ~ '^[0-9]{5}([.][0-9]+)?$' and cast(typed as numeric) between 36526 and 73050
                then to_char(
                    date_trunc('second', timestamp '1899-12-30'
                        + cast(typed as numeric) * interval '1 day' + interval '500 milliseconds'),
                    'YYYY-MM-DD HH24:MI:SS'
                )
            else trim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
                regexp_replace(regexp_replace(
                    typed,
                    '^([0-9]{4})\s*[年./-]\s*([0-9]{1,2})\s*[月./-]\s*([0-9]{1,2})\s*日?[T[:space:]]*',
                    '\1-\2-\3 '),
                    '([0-9]{1,2})\s*[时点:]\s*([0-9]{1,2})\s*分?\s*[:]?\s*([0-9]{1,2})\s*秒$',
                    '\1:\2:\3'),
                '([0-9]{1,2})\s*[时点]\s*([0-9]{1,2})\s*分?$', '\1:\2'),
                ':([0-9])(:|$)', ':0\1\2'),
                ':([0-9])$', ':0\1'),
                '\s+', ' ', 'g'))
        end
        from (select nullif(trim(normalize({{ expr }}, NFKC)), '') as typed) as clerk
    )
{%- endmacro %}
