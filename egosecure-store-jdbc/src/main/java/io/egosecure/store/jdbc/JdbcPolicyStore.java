package io.egosecure.store.jdbc;

import static io.egosecure.store.jdbc.internal.schema.Tables.ADMIN_KEYS;
import static io.egosecure.store.jdbc.internal.schema.Tables.AGENTS;
import static io.egosecure.store.jdbc.internal.schema.Tables.ENROLLMENT_TOKENS;
import static io.egosecure.store.jdbc.internal.schema.Tables.POLICIES;
import static io.egosecure.store.jdbc.internal.schema.Tables.REVISIONS;
import static io.egosecure.store.jdbc.internal.schema.Tables.SERVER_AUDIT;
import static io.egosecure.store.jdbc.internal.schema.Tables.SIGNING_KEYS;
import static io.egosecure.store.jdbc.internal.schema.Tables.TENANTS;
import static io.egosecure.store.jdbc.internal.schema.Tables.TENANT_AUDIT;
import static java.util.Objects.requireNonNull;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.egosecure.core.EgoSecureException;
import io.egosecure.core.NotFoundException;
import io.egosecure.core.StoreUnavailableException;
import io.egosecure.core.internal.Pages;
import io.egosecure.core.model.AdminKey;
import io.egosecure.core.model.AdminKeyId;
import io.egosecure.core.model.AuditEntry;
import io.egosecure.core.model.RevisionSnapshot;
import io.egosecure.core.model.Role;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.Page;
import io.egosecure.core.spi.PageRequest;
import io.egosecure.core.spi.PolicyStore;
import io.egosecure.core.spi.TenantTransaction;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import javax.sql.DataSource;
import org.flywaydb.core.api.FlywayException;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * A {@link PolicyStore} on SQLite (the embedded default) or PostgreSQL, through jOOQ. Opening one
 * migrates the database to the current schema with Flyway, and refuses a database that a newer
 * version of this library has migrated.
 *
 * <pre>{@code
 * try (PolicyStore store = JdbcPolicyStore.sqlite(Path.of("egosecure-data/egosecure.db"))) { ... }
 *
 * PolicyStore shared = JdbcPolicyStore.postgres("jdbc:postgresql://db:5432/egosecure")
 *     .user("egosecure").password(secret).maximumPoolSize(20).open();
 * }</pre>
 *
 * <p>Multitenant: one database, a tenant column on every tenant-owned row, and the tenant in the
 * predicate of every statement of {@link TenantTransaction}. Transactions on one tenant are
 * serialised (SQLite has one writer; PostgreSQL locks the tenant's row), so publishing can read
 * the latest revision and append the next without a race, on one node or many.
 */
public final class JdbcPolicyStore implements PolicyStore {
  /** How long SQLite waits for another process's lock before it fails. */
  static final long SQLITE_BUSY_TIMEOUT_SECONDS = 10;

  private final Database db;

  JdbcPolicyStore(Database db) {
    this.db = db;
  }

  /**
   * Opens (creating if needed) an SQLite database file in WAL mode, with foreign keys enforced,
   * full fsync on commit, and a {@value #SQLITE_BUSY_TIMEOUT_SECONDS} s busy timeout.
   *
   * @throws StoreUnavailableException if the file cannot be opened or is not an SQLite database
   */
  public static JdbcPolicyStore sqlite(Path file) {
    requireNonNull(file, "file == null");
    String what = "SQLite database " + file;
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      SQLiteDataSource dataSource = sqliteDataSource(file);
      Migrations.migrate(dataSource, null, what);
      Connection writer = dataSource.getConnection();
      Connection reader = dataSource.getConnection();
      return new JdbcPolicyStore(Database.writerAndReader(SQLDialect.SQLITE, what, writer, reader));
    } catch (IOException | SQLException | FlywayException e) {
      throw new StoreUnavailableException("cannot open " + what + ": " + Database.rootMessage(e), e);
    }
  }

  static SQLiteDataSource sqliteDataSource(Path file) {
    SQLiteConfig config = new SQLiteConfig();
    config.setJournalMode(SQLiteConfig.JournalMode.WAL);
    config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
    config.enforceForeignKeys(true);
    config.setBusyTimeout((int) Duration.ofSeconds(SQLITE_BUSY_TIMEOUT_SECONDS).toMillis());
    SQLiteDataSource dataSource = new SQLiteDataSource(config);
    dataSource.setUrl("jdbc:sqlite:" + file.toAbsolutePath());
    return dataSource;
  }

  /**
   * A store on a PostgreSQL pool the caller owns (and closes), in the pool's default schema.
   */
  public static JdbcPolicyStore postgres(DataSource dataSource) {
    requireNonNull(dataSource, "dataSource == null");
    String what = "PostgreSQL database";
    try {
      Migrations.migrate(dataSource, null, what);
    } catch (FlywayException e) {
      throw new StoreUnavailableException("cannot migrate " + what + ": " + Database.rootMessage(e), e);
    }
    return new JdbcPolicyStore(Database.pooled(SQLDialect.POSTGRES, what, dataSource, null));
  }

  /** A store on PostgreSQL with a HikariCP pool of its own; see {@link PostgresBuilder}. */
  public static PostgresBuilder postgres(String jdbcUrl) {
    return new PostgresBuilder(jdbcUrl);
  }

  /**
   * The single-customer scheme on SQLite: {@code directory/catalog.db} holds tenants, admin keys
   * and the server audit log; each tenant gets its own file under {@code directory/tenants/},
   * created with the tenant and deleted with it.
   */
  public static PolicyStore sqlitePerTenant(Path directory) {
    requireNonNull(directory, "directory == null");
    JdbcPolicyStore catalog = sqlite(directory.resolve("catalog.db"));
    return new TenantRoutingStore(catalog, new SqliteTenantDatabases(directory.resolve("tenants")));
  }

  // --- catalog ---

  @Override
  public void createTenant(Tenant tenant, RevisionSnapshot initialRevision) {
    requireNonNull(tenant, "tenant == null");
    checkInitial(initialRevision);
    db.transaction("create tenant " + tenant.id(), dsl -> {
      dsl.insertInto(TENANTS).set(Rows.tenant(tenant)).execute();
      dsl.insertInto(REVISIONS).set(Rows.revision(tenant.id(), initialRevision)).execute();
      return null;
    });
  }

  static void checkInitial(RevisionSnapshot initialRevision) {
    if (initialRevision.number() != 0 || !initialRevision.policies().isEmpty()) {
      throw new IllegalArgumentException("a tenant starts at revision 0 with no policies");
    }
  }

  /** The catalog row of a database-per-tenant store: the tenant's data lives elsewhere. */
  void createCatalogEntry(Tenant tenant) {
    db.transaction("register tenant " + tenant.id(), dsl ->
        dsl.insertInto(TENANTS).set(Rows.tenant(tenant)).execute());
  }

  DataSource dataSource() {
    return db.dataSource();
  }

  @Override
  public Optional<Tenant> tenant(TenantId id) {
    return db.read("read tenant " + id, dsl ->
        dsl.selectFrom(TENANTS).where(TENANTS.ID.eq(id.value())).fetchOptional(Rows::tenant));
  }

  @Override
  public Page<Tenant> tenants(Optional<AdminKeyId> distributor, PageRequest page) {
    Condition where = distributor.map(d -> TENANTS.DISTRIBUTOR_KEY_ID.eq(d.value())).orElse(DSL.noCondition());
    if (page.cursor().isPresent()) {
      where = where.and(TENANTS.ID.gt(Pages.decode(page.cursor().get())));
    }
    Condition condition = where;
    List<Tenant> rows = db.read("list tenants", dsl ->
        dsl.selectFrom(TENANTS).where(condition).orderBy(TENANTS.ID).limit(page.limit() + 1)
            .fetch(Rows::tenant));
    return Pages.fromExtraRow(rows, page.limit(), t -> t.id().value());
  }

  @Override
  public boolean deleteTenant(TenantId id) {
    return db.transaction("delete tenant " + id, dsl -> {
      lockTenant(dsl, id);
      deleteTenantData(dsl, id.value());
      dsl.deleteFrom(ADMIN_KEYS).where(ADMIN_KEYS.TENANT_ID.eq(id.value())).execute();
      return dsl.deleteFrom(TENANTS).where(TENANTS.ID.eq(id.value())).execute() > 0;
    });
  }

  /** Every tenant-owned row, children first so foreign keys hold at each step. */
  static void deleteTenantData(DSLContext dsl, String tenant) {
    dsl.deleteFrom(TENANT_AUDIT).where(TENANT_AUDIT.TENANT_ID.eq(tenant)).execute();
    dsl.deleteFrom(SIGNING_KEYS).where(SIGNING_KEYS.TENANT_ID.eq(tenant)).execute();
    dsl.deleteFrom(ENROLLMENT_TOKENS).where(ENROLLMENT_TOKENS.TENANT_ID.eq(tenant)).execute();
    dsl.deleteFrom(AGENTS).where(AGENTS.TENANT_ID.eq(tenant)).execute();
    dsl.deleteFrom(REVISIONS).where(REVISIONS.TENANT_ID.eq(tenant)).execute();
    dsl.deleteFrom(POLICIES).where(POLICIES.TENANT_ID.eq(tenant)).execute();
  }

  @Override
  public void createAdminKey(AdminKey key) {
    requireNonNull(key, "key == null");
    db.transaction("create admin key " + key.id(), dsl -> {
      if (key.tenantId().isPresent()
          && !dsl.fetchExists(TENANTS, TENANTS.ID.eq(key.tenantId().get().value()))) {
        throw new NotFoundException("tenant " + key.tenantId().get());
      }
      dsl.insertInto(ADMIN_KEYS).set(Rows.adminKey(key)).execute();
      return null;
    });
  }

  @Override
  public Optional<AdminKey> adminKey(AdminKeyId id) {
    return db.read("read admin key " + id, dsl ->
        dsl.selectFrom(ADMIN_KEYS).where(ADMIN_KEYS.ID.eq(id.value())).fetchOptional(Rows::adminKey));
  }

  @Override
  public Page<AdminKey> adminKeys(Optional<TenantId> tenant, PageRequest page) {
    Condition where = tenant
        .map(t -> ADMIN_KEYS.TENANT_ID.eq(t.value()))
        .orElse(ADMIN_KEYS.TENANT_ID.isNull().and(ADMIN_KEYS.KEY_ROLE.ne(Role.TENANT_ADMIN.name())));
    if (page.cursor().isPresent()) {
      where = where.and(ADMIN_KEYS.ID.gt(Pages.decode(page.cursor().get())));
    }
    Condition condition = where;
    List<AdminKey> rows = db.read("list admin keys", dsl ->
        dsl.selectFrom(ADMIN_KEYS).where(condition).orderBy(ADMIN_KEYS.ID).limit(page.limit() + 1)
            .fetch(Rows::adminKey));
    return Pages.fromExtraRow(rows, page.limit(), k -> k.id().value());
  }

  @Override
  public boolean deleteAdminKey(AdminKeyId id) {
    return db.transaction("delete admin key " + id, dsl ->
        dsl.deleteFrom(ADMIN_KEYS).where(ADMIN_KEYS.ID.eq(id.value())).execute() > 0);
  }

  @Override
  public void appendServerAudit(AuditEntry entry) {
    if (entry.tenantId().isPresent()) {
      throw new IllegalArgumentException("a server-wide audit entry names no tenant: " + entry);
    }
    // Nothing serialises server-wide writes across nodes: two appends may pick the same next
    // number, and the loser of the primary key simply takes the one after.
    for (int attempt = 1; ; attempt++) {
      try {
        db.transaction("append to the server audit log", dsl -> {
          Long last = dsl.select(SERVER_AUDIT.SEQ.max()).from(SERVER_AUDIT).fetchOne().value1();
          return dsl.insertInto(SERVER_AUDIT)
              .set(SERVER_AUDIT.SEQ, last == null ? 1 : last + 1)
              .set(SERVER_AUDIT.OCCURRED_AT, entry.at().toEpochMilli())
              .set(SERVER_AUDIT.ACTOR, entry.actor())
              .set(SERVER_AUDIT.ACTION_NAME, entry.action())
              .set(SERVER_AUDIT.TARGET, entry.target())
              .execute();
        });
        return;
      } catch (IllegalStateException conflict) {
        if (attempt == 5) {
          throw conflict;
        }
      }
    }
  }

  @Override
  public Page<AuditEntry> serverAudit(PageRequest page) {
    Condition where = page.cursor()
        .map(c -> SERVER_AUDIT.SEQ.lt(Pages.decodeNumber(c)))
        .orElse(DSL.noCondition());
    var rows = db.read("read the server audit log", dsl ->
        dsl.selectFrom(SERVER_AUDIT).where(where).orderBy(SERVER_AUDIT.SEQ.desc())
            .limit(page.limit() + 1).fetch());
    return Pages.fromExtraRow(List.copyOf(rows), page.limit(), r -> Long.toString(r.getSeq()))
        .map(r -> Rows.audit(r.getOccurredAt(), r.getActor(), r.getActionName(), r.getTarget(),
            Optional.empty()));
  }

  // --- tenant transactions ---

  @Override
  public <T> T inTenant(TenantId tenant, Function<TenantTransaction, T> work) {
    requireNonNull(tenant, "tenant == null");
    requireNonNull(work, "work == null");
    return db.transaction("a transaction on tenant " + tenant, dsl -> {
      Tenant locked = lockTenant(dsl, tenant).orElseThrow(() -> new NotFoundException("tenant " + tenant));
      JdbcTenantTransaction tx = new JdbcTenantTransaction(dsl, locked);
      try {
        return work.apply(tx);
      } finally {
        tx.end();
      }
    });
  }

  /**
   * Reads the tenant's row; on PostgreSQL also locks it until the transaction ends, which is what
   * serialises transactions on one tenant across connections and nodes.
   */
  private Optional<Tenant> lockTenant(DSLContext dsl, TenantId tenant) {
    var select = dsl.selectFrom(TENANTS).where(TENANTS.ID.eq(tenant.value()));
    return (db.dialect() == SQLDialect.POSTGRES ? select.forUpdate() : select).fetchOptional(Rows::tenant);
  }

  @Override
  public void checkReachable() {
    db.ping();
  }

  @Override
  public void close() {
    db.close();
  }

  @Override
  public String toString() {
    return "JdbcPolicyStore[" + db.description() + "]";
  }

  /**
   * Opens a {@link JdbcPolicyStore} on PostgreSQL with a HikariCP pool the store owns and closes.
   */
  public static final class PostgresBuilder {
    private final String jdbcUrl;
    private String user;
    private String password;
    private String schema;
    private int maximumPoolSize = 10;
    private int tenantPoolSize = 2;
    private String tenantDatabasePrefix = "egosecure_";
    private Duration connectionTimeout = Duration.ofSeconds(5);
    private Duration socketTimeout = Duration.ofSeconds(60);
    private boolean idleWhenUnused;

    private PostgresBuilder(String jdbcUrl) {
      this.jdbcUrl = requireNonNull(jdbcUrl, "jdbcUrl == null");
      if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
        throw new IllegalArgumentException("not a PostgreSQL JDBC URL: " + jdbcUrl);
      }
    }

    public PostgresBuilder user(String user) {
      this.user = requireNonNull(user, "user == null");
      return this;
    }

    public PostgresBuilder password(String password) {
      this.password = requireNonNull(password, "password == null");
      return this;
    }

    /** The schema to keep EgoSecure's tables in, created if missing. Default: the user's default. */
    public PostgresBuilder schema(String schema) {
      requireNonNull(schema, "schema == null");
      if (!schema.matches("[a-z_][a-z0-9_]{0,62}")) {
        throw new IllegalArgumentException("schema must be a lower-case SQL identifier, was " + schema);
      }
      this.schema = schema;
      return this;
    }

    /** Connections at most. Default 10. */
    public PostgresBuilder maximumPoolSize(int maximumPoolSize) {
      if (maximumPoolSize < 1) {
        throw new IllegalArgumentException("maximumPoolSize cannot be less than 1, was " + maximumPoolSize);
      }
      this.maximumPoolSize = maximumPoolSize;
      return this;
    }

    /** How long a caller waits for a connection before the store is called unavailable. Default 5 s. */
    public PostgresBuilder connectionTimeout(Duration connectionTimeout) {
      requireNonNull(connectionTimeout, "connectionTimeout == null");
      if (connectionTimeout.toMillis() < 250) {
        throw new IllegalArgumentException(
            "connectionTimeout cannot be less than 250ms, was " + connectionTimeout.toMillis() + "ms");
      }
      this.connectionTimeout = connectionTimeout;
      return this;
    }

    /**
     * How long a statement may wait for the database's answer before its connection is dropped
     * and the call fails as unavailable (503). Without it a half-open connection, after a
     * failover or a cut network, holds the request until TCP gives up, which can take many minutes.
     * Whole seconds, at least 1. Default 60 s: far above any query the store makes.
     */
    public PostgresBuilder socketTimeout(Duration socketTimeout) {
      requireNonNull(socketTimeout, "socketTimeout == null");
      if (socketTimeout.toSeconds() < 1) {
        throw new IllegalArgumentException("socketTimeout cannot be less than 1s, was " + socketTimeout.toMillis() + "ms");
      }
      this.socketTimeout = socketTimeout;
      return this;
    }

    /**
     * Connections at most per tenant database in the database-per-tenant scheme; they close when
     * idle, so many tenants do not hold many connections. Default 2.
     */
    public PostgresBuilder tenantPoolSize(int tenantPoolSize) {
      if (tenantPoolSize < 1) {
        throw new IllegalArgumentException("tenantPoolSize cannot be less than 1, was " + tenantPoolSize);
      }
      this.tenantPoolSize = tenantPoolSize;
      return this;
    }

    /** Names tenant databases {@code <prefix><tenant id>}. Default {@code egosecure_}. */
    public PostgresBuilder tenantDatabasePrefix(String prefix) {
      requireNonNull(prefix, "prefix == null");
      if (!prefix.matches("[a-z_][a-z0-9_]{0,30}")) {
        throw new IllegalArgumentException(
            "tenantDatabasePrefix must be a lower-case SQL identifier of at most 31 characters, was " + prefix);
      }
      this.tenantDatabasePrefix = prefix;
      return this;
    }

    /**
     * The single-customer scheme on PostgreSQL: this builder's database is the catalog (tenants,
     * admin keys, server audit log), and each tenant gets a database of its own on the same
     * server, named {@code <tenantDatabasePrefix><tenant id>}, created with the tenant and dropped with it.
     * The user needs the {@code CREATEDB} privilege.
     */
    public PolicyStore openPerTenant() {
      JdbcPolicyStore catalog = open();
      PostgresTenantDatabases databases =
          new PostgresTenantDatabases(catalog.dataSource(), tenantDatabasePrefix, database -> {
            PostgresBuilder tenant = new PostgresBuilder(withDatabase(jdbcUrl, database));
            tenant.user = user;
            tenant.password = password;
            tenant.maximumPoolSize = tenantPoolSize;
            tenant.connectionTimeout = connectionTimeout;
            tenant.socketTimeout = socketTimeout;
            tenant.idleWhenUnused = true;
            return tenant;
          });
      return new TenantRoutingStore(catalog, databases);
    }

    /** {@code jdbc:postgresql://host:port/old?params} with another database name. */
    static String withDatabase(String jdbcUrl, String database) {
      int hostStart = jdbcUrl.indexOf("//");
      int pathStart = hostStart < 0 ? -1 : jdbcUrl.indexOf('/', hostStart + 2);
      if (pathStart < 0) {
        throw new IllegalArgumentException("the JDBC URL names no database: " + jdbcUrl);
      }
      int query = jdbcUrl.indexOf('?', pathStart);
      return jdbcUrl.substring(0, pathStart + 1) + database + (query < 0 ? "" : jdbcUrl.substring(query));
    }

    /**
     * Connects, migrates and returns the store.
     *
     * @throws StoreUnavailableException if the database cannot be reached or migrated
     */
    public JdbcPolicyStore open() {
      HikariConfig config = new HikariConfig();
      config.setJdbcUrl(jdbcUrl);
      config.setUsername(user);
      config.setPassword(password);
      config.setMaximumPoolSize(maximumPoolSize);
      config.setConnectionTimeout(connectionTimeout.toMillis());
      config.setPoolName("egosecure-store");
      config.addDataSourceProperty("socketTimeout", Long.toString(socketTimeout.toSeconds()));
      config.addDataSourceProperty("tcpKeepAlive", "true");
      // Tells the store's sessions from the change feed's in pg_stat_activity.
      config.addDataSourceProperty("ApplicationName", "egosecure-store");
      if (idleWhenUnused) {
        config.setMinimumIdle(0);
        config.setIdleTimeout(Duration.ofSeconds(30).toMillis());
      }
      if (schema != null) {
        config.setSchema(schema);
      }
      // The URL's query may carry a password: messages and logs name the database without it.
      String what = "PostgreSQL database " + jdbcUrl.split("\\?", 2)[0] + (schema == null ? "" : " schema " + schema);
      HikariDataSource pool;
      try {
        pool = new HikariDataSource(config);
      } catch (RuntimeException e) {
        throw new StoreUnavailableException("cannot connect to " + what + ": " + Database.rootMessage(e), e);
      }
      try {
        Migrations.migrate(pool, schema, what);
      } catch (RuntimeException e) {
        pool.close();
        if (e instanceof EgoSecureException egoSecure) {
          throw egoSecure;
        }
        throw new StoreUnavailableException("cannot migrate " + what + ": " + Database.rootMessage(e), e);
      }
      return new JdbcPolicyStore(Database.pooled(SQLDialect.POSTGRES, what, pool, pool));
    }
  }
}
