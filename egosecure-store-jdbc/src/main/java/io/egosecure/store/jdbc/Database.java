package io.egosecure.store.jdbc;

import io.egosecure.core.EgoSecureException;
import io.egosecure.core.StoreUnavailableException;
import io.egosecure.core.ValidationException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.conf.FetchTriggerValuesAfterReturning;
import org.jooq.conf.Settings;
import org.jooq.exception.DataAccessException;
import org.jooq.impl.DSL;

/**
 * One database the store talks to: its dialect, how to get a connection, and the one place
 * where SQL and jOOQ exceptions become the core's exceptions.
 *
 * <p>SQLite gets one connection behind a lock (it has one writer anyway, and a single connection
 * keeps WAL readers and the writer from tripping over each other); PostgreSQL gets a pool.
 */
final class Database implements AutoCloseable {
  private static final Settings SETTINGS =
      new Settings()
          .withExecuteLogging(false)
          .withRenderSchema(false)
          // jOOQ's RETURNING emulation on SQLite misses rows on the update path of an upsert.
          .withFetchTriggerValuesAfterReturning(FetchTriggerValuesAfterReturning.NEVER);

  private final SQLDialect dialect;
  private final String description;
  private final DataSource pool;
  private final Connection single;
  private final ReentrantLock singleLock;
  private final Connection reader;
  private final ReentrantLock readerLock;
  private final AutoCloseable owned;

  private Database(
      SQLDialect dialect, String description, DataSource pool, Connection single,
      Connection reader, AutoCloseable owned) {
    this.dialect = dialect;
    this.description = description;
    this.pool = pool;
    this.single = single;
    this.singleLock = single == null ? null : new ReentrantLock();
    this.reader = reader;
    this.readerLock = reader == null ? null : new ReentrantLock();
    this.owned = owned;
  }

  /**
   * A database written through one connection and read through another, both owned and closed
   * here: in WAL mode the reader sees the last commit while a write transaction is open, so
   * reads (an admin key, a tenant) never wait behind a publish.
   */
  static Database writerAndReader(
      SQLDialect dialect, String description, Connection writer, Connection reader) {
    AutoCloseable both = () -> {
      try (writer; reader) {
        // closes both, the reader first
      }
    };
    return new Database(dialect, description, null, writer, reader, both);
  }

  /**
   * A database used through a pool.
   *
   * @param owned closed with this object (the pool the store made), or null (the caller's pool)
   */
  static Database pooled(SQLDialect dialect, String description, DataSource pool, AutoCloseable owned) {
    return new Database(dialect, description, pool, null, null, owned);
  }

  /** The pool, or null for a single-connection database. */
  DataSource dataSource() {
    return pool;
  }

  SQLDialect dialect() {
    return dialect;
  }

  String description() {
    return description;
  }

  /**
   * Runs {@code work} in one transaction; failures of the database become {@link
   * StoreUnavailableException} naming {@code operation}, exceptions of {@code work} pass through.
   */
  <T> T transaction(String operation, Function<DSLContext, T> work) {
    if (single != null) {
      singleLock.lock();
      try {
        return translate(operation, () ->
            DSL.using(single, dialect, SETTINGS).transactionResult(c -> work.apply(c.dsl())));
      } finally {
        singleLock.unlock();
      }
    }
    return translate(operation, () ->
        DSL.using(pool, dialect, SETTINGS).transactionResult(c -> work.apply(c.dsl())));
  }

  /**
   * Runs a read that needs no lock and sees the last commit: on SQLite through the read
   * connection, so it does not wait for an open write transaction.
   */
  <T> T read(String operation, Function<DSLContext, T> work) {
    if (reader == null) {
      return transaction(operation, work);
    }
    readerLock.lock();
    try {
      return translate(operation, () -> work.apply(DSL.using(reader, dialect, SETTINGS)));
    } finally {
      readerLock.unlock();
    }
  }

  /** Checks a trivial query answers. */
  void ping() {
    read("check reachability", dsl -> dsl.selectOne().fetch());
  }

  private <T> T translate(String operation, Supplier<T> call) {
    try {
      return call.get();
    } catch (DataAccessException e) {
      if (e.sqlState() != null && e.sqlState().startsWith("22")) {
        // A data exception: a value the database cannot store (the model lets few through).
        throw new ValidationException("/", operation + ": the store refused a value: " + rootMessage(e));
      }
      if (isIntegrityViolation(e)) {
        throw new IllegalStateException(operation + " on " + description + " conflicts with existing data: "
            + rootMessage(e), e);
      }
      throw new StoreUnavailableException(operation + " on " + description + " failed: " + rootMessage(e), e);
    } catch (EgoSecureException | IllegalStateException | IllegalArgumentException e) {
      throw e;
    } catch (RuntimeException e) {
      if (e.getCause() instanceof SQLException sql) {
        throw new StoreUnavailableException(operation + " on " + description + " failed: " + sql.getMessage(), e);
      }
      throw e;
    }
  }

  private static boolean isIntegrityViolation(DataAccessException e) {
    String state = e.sqlState();
    if (state != null && state.startsWith("23")) {
      return true;
    }
    String message = rootMessage(e);
    return message.contains("SQLITE_CONSTRAINT");
  }

  /** The innermost cause's message: what the driver actually said. */
  static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return String.valueOf(root.getMessage());
  }

  @Override
  public void close() {
    if (owned == null) {
      return;
    }
    try {
      if (singleLock != null) {
        singleLock.lock();
        readerLock.lock();
      }
      owned.close();
    } catch (Exception e) {
      throw new StoreUnavailableException("closing " + description + " failed", e);
    } finally {
      if (singleLock != null) {
        readerLock.unlock();
        singleLock.unlock();
      }
    }
  }
}
