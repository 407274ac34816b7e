{#- Placement by region code, shared by every source: a village code places a record
    at that village and its parent township, a township code at the township; any
    other level (county, unknown code) places nothing. `regions` is the alias of a
    join to stg_regions__regions on the record's region code. -#}
{% macro placed_village_code(regions) -%}
    case when {{ regions }}.region_level = 'village' then {{ regions }}.region_code end
{%- endmacro %}

{% macro placed_township_code(regions) -%}
    case
        when {{ regions }}.region_level = 'village' then {{ regions }}.parent_code
        when {{ regions }}.region_level = 'township' then {{ regions }}.region_code
    end
{%- endmacro %}
