package io.egosecure.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.egosecure.core.NotFoundException;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.spi.PolicyStore;
import io.egosecure.core.spi.PolicyStoreContract;
import io.egosecure.core.spi.TenantTransaction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The store contract on the database-per-tenant scheme over real PostgreSQL databases. */
class PostgresTenantRoutingStoreIT extends PolicyStoreContract {
  private String prefix;
  private String schema;

  @BeforeAll
  static void server() {
    PostgresTestDatabase.requireServer();
  }

  @Override
  protected PolicyStore newStore() {
    schema = PostgresTestDatabase.uniqueName("egosecure_it_");
    prefix = PostgresTestDatabase.uniqueName("egosecure_it_") + "_";
    return PostgresTestDatabase.builder(schema).tenantDatabasePrefix(prefix).openPerTenant();
  }

  @Test
  void aTenantDeletedThroughOneNodeIsGoneOnAnotherThatHadItsDatabaseOpen() {
    try (PolicyStore otherNode = PostgresTestDatabase.builder(schema).tenantDatabasePrefix(prefix).openPerTenant()) {
      Tenant tenant = createTenant("t-shared");
      otherNode.inTenant(tenant.id(), TenantTransaction::policies);

      assertThat(store.deleteTenant(tenant.id())).isTrue();

      assertThatThrownBy(() -> otherNode.inTenant(tenant.id(), TenantTransaction::policies))
          .isInstanceOf(NotFoundException.class);
      assertThat(otherNode.tenant(tenant.id())).isEmpty();
      assertThat(store.deleteTenant(tenant.id())).isFalse();
    }
  }

  @AfterEach
  void drop() {
    if (schema != null) {
      PostgresTestDatabase.dropSchema(schema);
      PostgresTestDatabase.dropDatabases(prefix);
    }
  }
}
