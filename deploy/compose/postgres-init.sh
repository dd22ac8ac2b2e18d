#!/bin/sh
# First start of the compose PostgreSQL: one role and one database per service, each database
# owned by its role and closed to everyone else. SERVICES lists the services; <SERVICE>_DB_PASSWORD
# gives each role's password (docker-compose.yml passes both).
set -eu
for service in ${SERVICES}; do
    password_var="$(echo "${service}" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
    password="$(printenv "${password_var}")" || { echo "${password_var} is not set" >&2; exit 1; }
    echo "creating role and database ${service}"
    psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER}" --dbname postgres \
        --set=name="${service}" --set=password="${password}" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
done
