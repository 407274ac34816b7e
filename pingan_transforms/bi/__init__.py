"""BI: Apache Superset provisioned from the repository, reading the marts as the BI role."""
