package io.egosecure.examples.server;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** The command line of the reference server. */
@Command(
    name = "egosecure-reference-server",
    mixinStandardHelpOptions = true,
    versionProvider = ServerOptions.Version.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    description = {
      "Runs the EgoSecure policy server: the v1 agent and admin APIs over HTTPS.",
      "The first start on an empty data dir creates the SQLite database, a self-signed certificate,"
          + " the master key and the bootstrap operator key (DIR/operator.key), all owner-only.",
      "When ready it prints 'EgoSecure server ready at URL' and writes URL to DIR/server.url."
    },
    footer = {
      "",
      "Exit status: 0 after a clean shutdown (SIGTERM, SIGINT), 1 if the server cannot start,"
          + " 2 for a bad command line."
    })
final class ServerOptions {

  /** The tenancy schemes of the EgoSecure SaaS guide. */
  enum Tenancy {
    SHARED("shared"),
    DATABASE_PER_TENANT("database-per-tenant");

    final String option;

    Tenancy(String option) {
      this.option = option;
    }

    @Override
    public String toString() {
      return option;
    }
  }

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      defaultValue = "./egosecure-data",
      description = "Certificate, keys, server.url and the SQLite database. Default: ${DEFAULT-VALUE}")
  Path dataDir;

  @Option(
      names = "--host",
      paramLabel = "ADDRESS",
      defaultValue = "0.0.0.0",
      description = "Address to listen on. Default: ${DEFAULT-VALUE} (every interface)")
  String host;

  @Option(
      names = "--port",
      paramLabel = "PORT",
      defaultValue = "8443",
      description = "Port to listen on; 0 picks a free one (see DIR/server.url). Default: ${DEFAULT-VALUE}")
  int port;

  @Option(
      names = "--database",
      paramLabel = "JDBC-URL",
      description = {
        "jdbc:sqlite:FILE or jdbc:postgresql://HOST:PORT/DB.",
        "Default: jdbc:sqlite:DIR/egosecure.db (database-per-tenant: DIR/catalog.db and DIR/tenants/;"
            + " a jdbc:sqlite: URL then names that directory)"
      })
  String database;

  @Option(names = "--database-user", paramLabel = "USER", description = "PostgreSQL user.")
  String databaseUser;

  @Option(
      names = "--database-password",
      paramLabel = "PASSWORD",
      defaultValue = "${env:EGOSECURE_DATABASE_PASSWORD}",
      description = "PostgreSQL password. Default: the environment variable EGOSECURE_DATABASE_PASSWORD")
  String databasePassword;

  @Option(
      names = "--keystore",
      paramLabel = "FILE",
      description = "PKCS#12 key store with the server's key and certificate chain, instead of the generated certificate.")
  Path keystore;

  @Option(
      names = "--keystore-password",
      paramLabel = "PASSWORD",
      defaultValue = "${env:EGOSECURE_KEYSTORE_PASSWORD}",
      description = "Password of --keystore. Default: the environment variable EGOSECURE_KEYSTORE_PASSWORD")
  String keystorePassword;

  @Option(
      names = "--cert",
      paramLabel = "FILE",
      description = "PEM certificate chain, server certificate first (with --key), instead of the generated certificate.")
  Path cert;

  @Option(names = "--key", paramLabel = "FILE", description = "PEM PKCS#8 private key of --cert.")
  Path key;

  @Option(
      names = "--poll-interval",
      paramLabel = "SECONDS",
      defaultValue = "60",
      description = "How often agents of new tenants poll (5 to 86400). Default: ${DEFAULT-VALUE}")
  long pollIntervalSeconds;

  @Option(
      names = "--tenancy",
      paramLabel = "SCHEME",
      defaultValue = "shared",
      converter = TenancyConverter.class,
      completionCandidates = TenancyNames.class,
      description = {
        "shared: one database, every row carries its tenant (multitenant).",
        "database-per-tenant: a database per customer (single customer). Default: ${DEFAULT-VALUE}"
      })
  Tenancy tenancy;

  @Option(
      names = "--insecure-http",
      description = "Serve plain HTTP instead of HTTPS. Local development only: credentials and policies cross the network unencrypted.")
  boolean insecureHttp;

  static final class TenancyConverter implements ITypeConverter<Tenancy> {
    @Override
    public Tenancy convert(String value) {
      for (Tenancy tenancy : Tenancy.values()) {
        if (tenancy.option.equals(value.toLowerCase(Locale.ROOT))) {
          return tenancy;
        }
      }
      throw new TypeConversionException("expected shared or database-per-tenant, was '" + value + "'");
    }
  }

  static final class TenancyNames implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return List.of(Tenancy.SHARED.option, Tenancy.DATABASE_PER_TENANT.option).iterator();
    }
  }

  static final class Version implements picocli.CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = ServerOptions.class.getPackage().getImplementationVersion();
      return new String[] {"egosecure-reference-server " + (version == null ? "(development build)" : version)};
    }
  }
}
