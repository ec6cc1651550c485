package io.egosecure.core.spi;

/**
 * Tells every server node sharing a store which records changed, so each keeps its in-memory
 * index (credentials, current ETags, parked polls) fresh without reading the store on a poll.
 *
 * <p>The server calls {@link #publish} after each committed change. A feed that may lose
 * messages (a dropped database connection) calls {@link Listener#resynchronize()} once it is
 * back, and the server re-reads everything: lost messages cost time, never correctness.
 */
public interface ChangeFeed extends AutoCloseable {

  /** Delivers each change synchronously to this JVM's subscribers: right for a single node. */
  static ChangeFeed inProcess() {
    return new InProcessChangeFeed();
  }

  /** Announces a committed change to every subscriber, on this node and others. */
  void publish(Change change);

  /**
   * Registers a listener.
   *
   * @return closing it removes the listener
   */
  AutoCloseable subscribe(Listener listener);

  @Override
  void close();

  /** Receives changes. Called from the feed's thread; must not block for long. */
  interface Listener {
    void onChange(Change change);

    /** Changes may have been missed: re-read all state. */
    default void resynchronize() {}
  }
}
