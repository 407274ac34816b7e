{#- Layers are schemas of their own (raw, staging, intermediate, marts, seeds), not
    suffixes of the target schema: BI roles are granted per layer. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
