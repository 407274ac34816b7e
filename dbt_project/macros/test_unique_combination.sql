{#- Generic test: no two rows share the given combination of columns
    (the grain of a model). Written here because dbt packages are unreachable. -#}
{% test unique_combination(model, columns) %}

select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
