{#- Generic test on an int_<source>_batches_reconciled model (macro
    batches_reconciled): every batch reconciles. A row here is a batch whose raw rows
    differ from what the extractor recorded, or whose rows were not each staged,
    quarantined or superseded exactly once (unaccounted_rows says how many). -#}
{% test batches_reconcile(model) %}

select *
from {{ model }}
where not is_reconciled

{% endtest %}
