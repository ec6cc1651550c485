package io.egosecure.agent;

import io.egosecure.core.ValidationException;
import io.egosecure.core.wire.AgentMessages.SigningKeyInfo;
import io.egosecure.core.wire.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The agent's state on disk: its identity (credential and the tenant's signing keys) and the
 * PolicySet last put into force, with the ETag it came with.
 *
 * <p>Every file is written whole or not at all (a temporary file, forced to disk, renamed over the
 * old one, then the directory forced), owner-only where the file system has POSIX permissions. A
 * file that does not read back is reported {@link PolicyAgentException.Kind#STATE_CORRUPT} and
 * treated as absent: a torn write must never stop an endpoint from starting. A lock file keeps two
 * agents, in one JVM or two, from sharing a directory.
 */
final class StateDirectory implements AutoCloseable {
  static final String IDENTITY = "identity.json";
  static final String POLICY_SET = "policy-set.json";
  private static final String LOCK = "agent.lock";
  private static final String TEMPORARY_SUFFIX = ".tmp";
  static final String CORRUPT_SUFFIX = ".corrupt";
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PolicyAgent.class);

  /** What enrollment gave this agent. The credential is a secret: this file is owner-only. */
  record Identity(String agentId, String tenantId, String credential, List<SigningKeyInfo> signingKeys) {
    Identity {
      Objects.requireNonNull(agentId, "agentId");
      Objects.requireNonNull(tenantId, "tenantId");
      Objects.requireNonNull(credential, "credential");
      signingKeys = List.copyOf(Objects.requireNonNull(signingKeys, "signingKeys"));
    }

    @Override
    public String toString() {
      return "Identity[agentId=" + agentId + ", tenantId=" + tenantId + "]";
    }
  }

  /**
   * The set in force, as received (its bytes are what was signed), the ETag to send with {@code
   * If-None-Match} so a restart does not download it again, and the polling settings the server
   * last gave, so a restarted fleet spreads its first polls as the server asked.
   *
   * @param pollIntervalSeconds absent in files of older agents
   * @param pollJitterPercent absent in files of older agents
   */
  record StoredPolicySet(String etag, String policySet, Long pollIntervalSeconds, Integer pollJitterPercent) {
    StoredPolicySet {
      Objects.requireNonNull(etag, "etag");
      Objects.requireNonNull(policySet, "policySet");
    }
  }

  private final Path directory;
  private final boolean posix;
  private final FileChannel lockChannel;
  private final FileLock lock;

  private StateDirectory(Path directory, boolean posix, FileChannel lockChannel, FileLock lock) {
    this.directory = directory;
    this.posix = posix;
    this.lockChannel = lockChannel;
    this.lock = lock;
  }

  /** Creates the directory if needed (owner-only), takes its lock and clears torn writes. */
  static StateDirectory open(Path directory) throws PolicyAgentException {
    boolean posix = directory.getFileSystem().supportedFileAttributeViews().contains("posix");
    FileChannel channel = null;
    try {
      if (!Files.isDirectory(directory)) {
        if (posix) {
          Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(
              PosixFilePermissions.fromString("rwx------")));
        } else {
          Files.createDirectories(directory);
        }
      } else if (posix && !PosixFilePermissions.toString(Files.getPosixFilePermissions(directory)).endsWith("------")) {
        // Not changed behind the owner's back: the directory may be theirs for other things too.
        log.warn("state directory {} is open to group or others; the agent's files in it are owner-only,"
            + " but consider making the directory owner-only too", directory);
      }
      channel = FileChannel.open(directory.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        throw new PolicyAgentException(PolicyAgentException.Kind.STATE_UNUSABLE,
            "state directory " + directory + " is in use by another agent");
      }
      StateDirectory state = new StateDirectory(directory, posix, channel, lock);
      state.removeTornWrites();
      channel = null; // the state directory owns it now
      return state;
    } catch (IOException e) {
      throw new PolicyAgentException(PolicyAgentException.Kind.STATE_UNUSABLE,
          "cannot use state directory " + directory + ": " + e, e);
    } finally {
      if (channel != null) {
        try {
          channel.close(); // releases the lock too
        } catch (IOException ignored) {
          // Nothing more to release.
        }
      }
    }
  }

  Path path() {
    return directory;
  }

  Optional<Identity> readIdentity() throws PolicyAgentException {
    return read(IDENTITY, Identity.class);
  }

  void writeIdentity(Identity identity) throws PolicyAgentException {
    write(IDENTITY, Json.write(identity));
  }

  Optional<StoredPolicySet> readPolicySet() throws PolicyAgentException {
    return read(POLICY_SET, StoredPolicySet.class);
  }

  void writePolicySet(StoredPolicySet stored) throws PolicyAgentException {
    write(POLICY_SET, Json.write(stored));
  }

  /**
   * Moves a file found corrupt to {@code <name>.corrupt} (replacing an older one), so the next
   * start does not report it again and a person can still look at it.
   */
  void setAside(String name) throws PolicyAgentException {
    Path file = directory.resolve(name);
    try {
      if (Files.exists(file)) {
        Files.move(file, directory.resolve(name + CORRUPT_SUFFIX), StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw unusable("cannot move aside " + file, e);
    }
  }

  private <T> Optional<T> read(String name, Class<T> type) throws PolicyAgentException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(directory.resolve(name));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw unusable("cannot read " + directory.resolve(name), e);
    }
    try {
      return Optional.of(Json.read(bytes, type, Json.Strictness.IGNORE_UNKNOWN_FIELDS));
    } catch (ValidationException | NullPointerException e) {
      throw new PolicyAgentException(PolicyAgentException.Kind.STATE_CORRUPT,
          directory.resolve(name) + " is corrupt (" + e.getMessage() + "); treating it as absent", e);
    }
  }

  private void write(String name, byte[] bytes) throws PolicyAgentException {
    Path target = directory.resolve(name);
    Path temporary = null;
    try {
      temporary = Files.createTempFile(directory, name + ".", TEMPORARY_SUFFIX, ownerOnly());
      try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        channel.force(true);
      }
      Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      temporary = null;
      forceDirectory();
    } catch (IOException e) {
      throw unusable("cannot write " + target, e);
    } finally {
      if (temporary != null) {
        try {
          Files.deleteIfExists(temporary);
        } catch (IOException ignored) {
          // The next open() removes it.
        }
      }
    }
  }

  private FileAttribute<?>[] ownerOnly() {
    return posix
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))}
        : new FileAttribute<?>[0];
  }

  /** Makes the rename itself durable; only POSIX systems can open a directory for this. */
  private void forceDirectory() throws IOException {
    if (posix) {
      try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
        channel.force(true);
      }
    }
  }

  private void removeTornWrites() throws IOException {
    try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(directory, "*" + TEMPORARY_SUFFIX)) {
      for (Path leftover : leftovers) {
        Files.deleteIfExists(leftover);
      }
    }
  }

  private PolicyAgentException unusable(String message, IOException cause) {
    return new PolicyAgentException(PolicyAgentException.Kind.STATE_UNUSABLE, message + ": " + cause, cause);
  }

  @Override
  public void close() {
    try {
      lock.release();
      lockChannel.close();
    } catch (IOException ignored) {
      // Closing the channel releases the lock in any case.
    }
  }
}
