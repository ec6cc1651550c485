package io.egosecure.benchmarks;

import java.lang.management.ManagementFactory;

/** This JVM's CPU time, all threads, user and system: what a process costs beside its peer on the same cores. */
final class ProcessCpu {
  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  private ProcessCpu() {}

  static long nanos() {
    return OS.getProcessCpuTime();
  }
}
