{#- The data cutoff (考核截止日) of the month that starts at `month_start` (a date
    expression), as a local timestamp like the sources' own: var cutoff_offset after
    the month's end. The pipeline passes the var from config/publishing.yml
    (pingan_transforms/cutoff.py); dbt_project.yml holds the shipped default. Cohort
    rates (petitions completed, disputes resolved, patrol issues rectified) count what
    was done by the cutoff, so a month's first publication and today's marts agree on
    them, and later work is not a revision of the month. -#}
{% macro month_cutoff(month_start) -%}
    (cast({{ month_start }} as timestamp) + interval '1 month'
        + interval '{{ var("cutoff_offset") }}')
{%- endmacro %}

{#- True when a date-only completion (`done_on`) falls on a day that ended by the
    month's cutoff; null when the date is unknown. -#}
{% macro done_by_cutoff(done_on, month_start) -%}
    ({{ done_on }} < cast({{ month_cutoff(month_start) }} as date))
{%- endmacro %}
