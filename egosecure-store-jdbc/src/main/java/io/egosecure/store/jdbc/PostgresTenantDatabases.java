package io.egosecure.store.jdbc;

import io.egosecure.core.StoreUnavailableException;
import io.egosecure.core.model.TenantId;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.function.Function;
import javax.sql.DataSource;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;

/**
 * One PostgreSQL database per tenant, named {@code <prefix><tenant id>} with dashes as
 * underscores, on the server of the catalog. The catalog's user needs {@code CREATEDB}.
 */
final class PostgresTenantDatabases implements TenantDatabases {
  private final DataSource admin;
  private final String prefix;
  private final Function<String, JdbcPolicyStore.PostgresBuilder> builderForDatabase;

  /**
   * @param admin connections used for CREATE and DROP DATABASE (autocommit)
   * @param builderForDatabase a store builder for a database name, with credentials and pool size
   */
  PostgresTenantDatabases(
      DataSource admin, String prefix, Function<String, JdbcPolicyStore.PostgresBuilder> builderForDatabase) {
    this.admin = admin;
    this.prefix = prefix;
    this.builderForDatabase = builderForDatabase;
  }

  String databaseName(TenantId tenant) {
    String name = prefix + tenant.value().replace('-', '_');
    if (name.length() > 63) {
      throw new IllegalArgumentException(
          "database name " + name + " is longer than PostgreSQL's 63 characters");
    }
    return name;
  }

  @Override
  public void create(TenantId tenant) {
    // CREATE DATABASE cannot run inside a transaction: a plain autocommit connection.
    withAdmin("create the database of tenant " + tenant, connection ->
        DSL.using(connection, SQLDialect.POSTGRES).createDatabase(DSL.name(databaseName(tenant))).execute());
  }

  @Override
  public JdbcPolicyStore open(TenantId tenant) {
    return builderForDatabase.apply(databaseName(tenant)).open();
  }

  @Override
  public void drop(TenantId tenant) {
    // WITH (FORCE) (PostgreSQL 13+) ends other nodes' idle connections to it, which would
    // otherwise make the drop fail. jOOQ's DDL API has no FORCE; the name is still a quoted
    // identifier rendered by jOOQ, never text pasted into SQL.
    withAdmin("drop the database of tenant " + tenant, connection ->
        DSL.using(connection, SQLDialect.POSTGRES)
            .query("DROP DATABASE IF EXISTS {0} WITH (FORCE)", DSL.name(databaseName(tenant))).execute());
  }

  private void withAdmin(String operation, Function<Connection, Integer> work) {
    try (Connection connection = admin.getConnection()) {
      connection.setAutoCommit(true);
      work.apply(connection);
    } catch (SQLException | org.jooq.exception.DataAccessException e) {
      if (e instanceof org.jooq.exception.DataAccessException d
          && d.sqlState() != null && d.sqlState().equals("42P04")) {
        throw new IllegalStateException(operation + ": it exists", e);
      }
      throw new StoreUnavailableException(operation + " failed: " + Database.rootMessage(e), e);
    }
  }

  @Override
  public void close() {}
}
