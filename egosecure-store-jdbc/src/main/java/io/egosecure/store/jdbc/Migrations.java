package io.egosecure.store.jdbc;

import io.egosecure.core.EgoSecureException;
import java.util.Arrays;
import java.util.List;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Brings a database to this library's schema with Flyway, refusing one a newer version made. */
final class Migrations {
  private static final Logger log = LoggerFactory.getLogger(Migrations.class);
  static final String HISTORY_TABLE = "egosecure_schema_history";
  static final String LOCATION = "classpath:db/egosecure/common";

  private Migrations() {}

  /**
   * Migrates {@code dataSource} to the current schema.
   *
   * @param schema the PostgreSQL schema to use (created if missing), or null for the default
   * @param what names the database in messages, e.g. {@code SQLite file /var/lib/egosecure/db}
   * @throws EgoSecureException if a newer version of this library migrated the database
   */
  static void migrate(DataSource dataSource, String schema, String what) {
    migrate(configure(dataSource, schema, LOCATION), what);
  }

  static void migrate(FluentConfiguration configuration, String what) {
    Flyway flyway = configuration.load();
    MigrationInfo[] all = flyway.info().all();
    List<MigrationInfo> future = Arrays.stream(all).filter(Migrations::isFuture).toList();
    if (!future.isEmpty()) {
      String known =
          Arrays.stream(all)
              .filter(i -> !isFuture(i))
              .map(i -> String.valueOf(i.getVersion()))
              .reduce((first, last) -> last)
              .orElse("none");
      throw new EgoSecureException(
          what + " has schema version " + future.get(future.size() - 1).getVersion()
              + " but this version of EgoSecure knows versions up to " + known
              + "; run a newer EgoSecure against it, or use another database");
    }
    MigrateResult result = flyway.migrate();
    if (result.migrationsExecuted > 0) {
      log.info("migrated {} to schema version {}", what, result.targetSchemaVersion);
    }
  }

  static FluentConfiguration configure(DataSource dataSource, String schema, String... locations) {
    FluentConfiguration configuration =
        Flyway.configure()
            .dataSource(dataSource)
            .locations(locations)
            .table(HISTORY_TABLE)
            .failOnMissingLocations(true);
    if (schema != null) {
      configuration.schemas(schema).defaultSchema(schema).createSchemas(true);
    }
    return configuration;
  }

  private static boolean isFuture(MigrationInfo info) {
    return info.getState() == MigrationState.FUTURE_SUCCESS
        || info.getState() == MigrationState.FUTURE_FAILED;
  }
}
