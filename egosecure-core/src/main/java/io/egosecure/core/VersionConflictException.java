package io.egosecure.core;

/**
 * An optimistic update named a version that is no longer current: somebody else changed the
 * resource first. Carries the current version so a client can re-read and retry.
 */
public final class VersionConflictException extends EgoSecureException {
  private static final long serialVersionUID = 1L;

  private final long expectedVersion;
  private final long currentVersion;

  public VersionConflictException(String resource, long expectedVersion, long currentVersion) {
    super(resource + " is at version " + currentVersion + ", not " + expectedVersion);
    this.expectedVersion = expectedVersion;
    this.currentVersion = currentVersion;
  }

  public long expectedVersion() {
    return expectedVersion;
  }

  public long currentVersion() {
    return currentVersion;
  }
}
