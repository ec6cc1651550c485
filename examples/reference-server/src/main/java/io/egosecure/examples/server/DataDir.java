package io.egosecure.examples.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The server's folder. Every file it creates is owner-only from the moment it exists (created
 * with those permissions, never chmod'ed afterwards), so no other user can read a key even for
 * an instant.
 */
final class DataDir {
  static final String CERTIFICATE = "server.crt";
  static final String PRIVATE_KEY = "server.key";
  static final String OPERATOR_KEY = "operator.key";
  static final String MASTER_KEY = "master.key";
  static final String URL = "server.url";
  static final String DATABASE = "egosecure.db";

  private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
  private static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> OWNER_DIRECTORY = PosixFilePermissions.fromString("rwx------");

  private final Path root;

  private DataDir(Path root) {
    this.root = root;
  }

  /** The folder, created owner-only if missing. */
  static DataDir open(Path directory) throws StartupException {
    Path root = directory.toAbsolutePath().normalize();
    if (Files.exists(root) && !Files.isDirectory(root)) {
      throw new StartupException("data dir " + root + " is not a directory");
    }
    try {
      Files.createDirectories(root, permissions(OWNER_DIRECTORY));
    } catch (IOException e) {
      throw new StartupException("cannot create data dir " + root + ": " + describe(e), e);
    }
    if (!Files.isWritable(root)) {
      throw new StartupException("data dir " + root + " is not writable");
    }
    return new DataDir(root);
  }

  Path root() {
    return root;
  }

  Path file(String name) {
    return root.resolve(name);
  }

  boolean exists(String name) {
    return Files.exists(file(name));
  }

  String readString(String name) throws StartupException {
    try {
      return Files.readString(file(name), StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new StartupException("cannot read " + file(name) + ": " + describe(e), e);
    }
  }

  /** Writes a new file, owner-only; fails if it exists. */
  void createOwnerOnly(String name, String content) throws StartupException {
    createOwnerOnly(file(name), content.getBytes(StandardCharsets.US_ASCII));
  }

  /** Replaces a file atomically, the new one owner-only from the start. */
  void replaceOwnerOnly(String name, String content) throws StartupException {
    Path target = file(name);
    Path temporary = file(name + ".tmp");
    try {
      Files.deleteIfExists(temporary);
      createOwnerOnly(temporary, content.getBytes(StandardCharsets.US_ASCII));
      Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new StartupException("cannot write " + target + ": " + describe(e), e);
    }
  }

  void deleteQuietly(String name) {
    try {
      Files.deleteIfExists(file(name));
    } catch (IOException e) {
      // Only server.url is deleted, at shutdown; a stale one names a port nobody answers on.
    }
  }

  /** An empty SQLite file created owner-only, so SQLite (and its WAL files) keep those permissions. */
  void createEmptyIfMissing(Path databaseFile) throws StartupException {
    if (!Files.exists(databaseFile)) {
      createOwnerOnly(databaseFile, new byte[0]);
    }
  }

  private static void createOwnerOnly(Path file, byte[] content) throws StartupException {
    try (FileChannel channel = FileChannel.open(
        file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), permissions(OWNER_FILE))) {
      ByteBuffer buffer = ByteBuffer.wrap(content);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      // Keys must survive a crash right after they were handed out.
      channel.force(true);
    } catch (IOException e) {
      throw new StartupException("cannot write " + file + ": " + describe(e), e);
    }
  }

  private static FileAttribute<?>[] permissions(Set<PosixFilePermission> permissions) {
    return POSIX ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(permissions)} : new FileAttribute<?>[0];
  }

  /** An I/O failure in words: the JDK's messages for these are often just the path. */
  static String describe(IOException e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof NoSuchFileException) {
      return "no such file or directory";
    }
    if (e instanceof FileAlreadyExistsException) {
      return "a file of that name exists";
    }
    if (e instanceof FileSystemException fileSystem && fileSystem.getReason() != null) {
      return fileSystem.getReason();
    }
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }
}
