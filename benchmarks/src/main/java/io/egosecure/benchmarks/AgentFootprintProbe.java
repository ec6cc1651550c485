package io.egosecure.benchmarks;

import io.egosecure.agent.ApplyResult;
import io.egosecure.agent.PolicyAgent;
import io.egosecure.agent.PolicyAgentListener;
import io.egosecure.core.model.PolicySet;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The agent side of {@link AgentFootprintBenchmark}, run in a JVM whose class path holds only
 * the SDK, its dependencies and this class.
 *
 * <p>Arguments: server URI, CA file, enrollment token, state directory, push (true/false),
 * idle sample seconds.
 */
public final class AgentFootprintProbe {
  private AgentFootprintProbe() {}

  public static void main(String[] args) throws Exception {
    boolean push = Boolean.parseBoolean(args[4]);
    int sampleSeconds = Integer.parseInt(args[5]);
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    System.gc();
    int threadsBefore = threads.getThreadCount();
    long heapBefore = memory.getHeapMemoryUsage().getUsed();

    CountDownLatch applied = new CountDownLatch(1);
    try (PolicyAgent agent = PolicyAgent.builder()
        .server(URI.create(args[0]))
        .trustCertificates(Path.of(args[1]))
        .enrollmentToken(args[2])
        .stateDirectory(Path.of(args[3]))
        .push(push)
        .listener(new PolicyAgentListener() {
          @Override
          public void applied(PolicySet policySet) {
            applied.countDown();
          }
        })
        .applier(set -> ApplyResult.success())
        .build()) {
      agent.start();
      if (!applied.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("nothing applied within 30 s");
      }
      Thread.sleep(2_000); // settle: status report sent, push socket open
      long cpuStart = os.getProcessCpuTime();
      long wallStart = System.nanoTime();
      Thread.sleep(sampleSeconds * 1_000L);
      long cpu = os.getProcessCpuTime() - cpuStart;
      long wall = System.nanoTime() - wallStart;
      int agentThreads = threads.getThreadCount() - threadsBefore;
      System.gc();
      long heap = memory.getHeapMemoryUsage().getUsed() - heapBefore;
      System.out.printf("footprint push=%-5s threads=%d heap-after-gc=%.0f KiB cpu=%.3f%% of one core over %d s "
              + "(%.0f ms)%n", push, agentThreads, heap / 1024.0, 100.0 * cpu / wall, sampleSeconds, cpu / 1e6);
    }
  }
}
