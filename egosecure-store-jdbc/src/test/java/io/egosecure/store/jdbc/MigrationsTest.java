package io.egosecure.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.egosecure.core.EgoSecureException;
import io.egosecure.core.StoreUnavailableException;
import io.egosecure.core.model.PollingSettings;
import io.egosecure.core.model.Revision;
import io.egosecure.core.model.RevisionSnapshot;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.model.TenantId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationVersion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Schema migrations on real SQLite files: from nothing, from every earlier version, and refusal of newer. */
class MigrationsTest {
  @TempDir Path directory;

  private static List<MigrationVersion> knownVersions(Path file) {
    Flyway flyway = Migrations.configure(JdbcPolicyStore.sqliteDataSource(file), null, Migrations.LOCATION).load();
    return Arrays.stream(flyway.info().all()).map(MigrationInfo::getVersion).toList();
  }

  @Test
  void aFreshDatabaseEndsAtTheLatestVersion() {
    Path file = directory.resolve("fresh.db");
    JdbcPolicyStore.sqlite(file).close();

    Flyway flyway = Migrations.configure(JdbcPolicyStore.sqliteDataSource(file), null, Migrations.LOCATION).load();
    List<MigrationVersion> known = knownVersions(file);
    assertThat(known).isNotEmpty();
    assertThat(flyway.info().current().getVersion()).isEqualTo(known.get(known.size() - 1));
    assertThat(flyway.info().pending()).isEmpty();
  }

  @Test
  void aDatabaseAtEveryEarlierVersionIsMigratedAndKeepsItsData() {
    List<MigrationVersion> known = knownVersions(directory.resolve("probe.db"));
    for (MigrationVersion version : known) {
      Path file = directory.resolve("at-" + version + ".db");
      Migrations.configure(JdbcPolicyStore.sqliteDataSource(file), null, Migrations.LOCATION)
          .target(version).load().migrate();
      try (JdbcPolicyStore store = JdbcPolicyStore.sqlite(file)) {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        Tenant tenant = new Tenant(TenantId.of("t"), "T", now, Optional.empty(), PollingSettings.DEFAULT);
        store.createTenant(tenant, new RevisionSnapshot(new Revision(0, now, "", "test"), PollingSettings.DEFAULT, List.of()));
      }
      try (JdbcPolicyStore reopened = JdbcPolicyStore.sqlite(file)) {
        assertThat(reopened.tenant(TenantId.of("t"))).isPresent();
      }
      Flyway flyway = Migrations.configure(JdbcPolicyStore.sqliteDataSource(file), null, Migrations.LOCATION).load();
      assertThat(flyway.info().current().getVersion()).isEqualTo(known.get(known.size() - 1));
    }
  }

  @Test
  void aDatabaseMigratedByANewerVersionIsRefusedWithAClearMessage() {
    Path file = directory.resolve("newer.db");
    Migrations.configure(JdbcPolicyStore.sqliteDataSource(file), null, Migrations.LOCATION, "classpath:db/future")
        .load().migrate();

    assertThatThrownBy(() -> JdbcPolicyStore.sqlite(file))
        .isInstanceOf(EgoSecureException.class)
        .hasMessageContaining("has schema version 999")
        .hasMessageContaining("run a newer EgoSecure");
  }

  @Test
  void aFileThatIsNotAnSqliteDatabaseIsRefusedWithAClearMessage() throws Exception {
    Path file = directory.resolve("not-a-database.db");
    Files.writeString(file, "this is not a database, it is a text file with enough bytes in it ".repeat(20));

    assertThatThrownBy(() -> JdbcPolicyStore.sqlite(file))
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("cannot open SQLite database " + file);
  }
}
