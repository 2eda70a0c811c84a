package io.introducer.client.testing;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * How a {@link SimulatedNat} behaves, in RFC 4787 terms: mapping, filtering, port allocation, mapping
 * timeout and hairpinning, plus impairments (loss, delay, dropping the first inbound packets).
 * Immutable; start from a preset or {@link #builder()} and adjust with {@link #toBuilder()}.
 */
public final class NatBehavior {

  /** When the NAT reuses an external mapping for a new destination (RFC 4787 section 4.1). */
  public enum Mapping {
    /** One mapping per internal endpoint, whatever the destination (EIM, "cone"). */
    ENDPOINT_INDEPENDENT,
    /** A new mapping per destination IP address (ADM). */
    ADDRESS_DEPENDENT,
    /** A new mapping per destination IP address and port (APDM, "symmetric"). */
    ADDRESS_AND_PORT_DEPENDENT
  }

  /** Which inbound packets a mapping lets through (RFC 4787 section 5). */
  public enum Filtering {
    /** Anyone may send to the mapping (EIF). */
    ENDPOINT_INDEPENDENT,
    /** Only IP addresses the internal endpoint sent to (ADF). */
    ADDRESS_DEPENDENT,
    /** Only IP address and port pairs the internal endpoint sent to (APDF). */
    ADDRESS_AND_PORT_DEPENDENT
  }

  /** How external ports are chosen (RFC 4787 section 4.2). */
  public enum Allocation {
    /** The internal port if free, otherwise a random one. */
    PRESERVING,
    /** Each new mapping gets the previous mapping's port plus the stride. */
    SEQUENTIAL,
    /** A random port for each new mapping. */
    RANDOM
  }

  private final boolean open;
  private final Mapping mapping;
  private final Filtering filtering;
  private final Allocation allocation;
  private final int stride;
  private final Duration mappingTimeout;
  private final boolean hairpinning;
  private final double lossProbability;
  private final Duration delay;
  private final int dropFirstInbound;
  private final Predicate<InetSocketAddress> dropFrom;

  private NatBehavior(Builder b) {
    this.open = b.open;
    this.mapping = b.mapping;
    this.filtering = b.filtering;
    this.allocation = b.allocation;
    this.stride = b.stride;
    this.mappingTimeout = b.mappingTimeout;
    this.hairpinning = b.hairpinning;
    this.lossProbability = b.lossProbability;
    this.delay = b.delay;
    this.dropFirstInbound = b.dropFirstInbound;
    this.dropFrom = b.dropFrom;
  }

  /** No NAT at all: hosts own the public address and ports are not translated or filtered. */
  public static NatBehavior open() {
    Builder b = builder().mapping(Mapping.ENDPOINT_INDEPENDENT).filtering(Filtering.ENDPOINT_INDEPENDENT)
        .allocation(Allocation.PRESERVING).mappingTimeout(null).hairpinning(true);
    b.open = true;
    return b.build();
  }

  /** EIM, EIF, port preserving: the easiest NAT. */
  public static NatBehavior fullCone() {
    return builder().mapping(Mapping.ENDPOINT_INDEPENDENT).filtering(Filtering.ENDPOINT_INDEPENDENT).build();
  }

  /** EIM, address-dependent filtering, port preserving. */
  public static NatBehavior restrictedCone() {
    return builder().mapping(Mapping.ENDPOINT_INDEPENDENT).filtering(Filtering.ADDRESS_DEPENDENT).build();
  }

  /** EIM, address-and-port-dependent filtering, port preserving: what Linux MASQUERADE does. */
  public static NatBehavior portRestrictedCone() {
    return builder().mapping(Mapping.ENDPOINT_INDEPENDENT).filtering(Filtering.ADDRESS_AND_PORT_DEPENDENT).build();
  }

  /** APDM and APDF with sequential ports {@code stride} apart: a "hard" NAT whose ports can be predicted. */
  public static NatBehavior symmetricSequential(int stride) {
    return builder().mapping(Mapping.ADDRESS_AND_PORT_DEPENDENT).filtering(Filtering.ADDRESS_AND_PORT_DEPENDENT)
        .sequential(stride).build();
  }

  /** APDM and APDF with random ports: the hardest NAT. */
  public static NatBehavior symmetricRandom() {
    return builder().mapping(Mapping.ADDRESS_AND_PORT_DEPENDENT).filtering(Filtering.ADDRESS_AND_PORT_DEPENDENT)
        .allocation(Allocation.RANDOM).build();
  }

  /**
   * A builder starting from a port-restricted cone: EIM, APDF, port preserving, 120 s mapping timeout
   * (RFC 4787 REQ-5's minimum), no hairpinning, no loss, no delay.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this behaviour's settings. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.open = open;
    b.mapping = mapping;
    b.filtering = filtering;
    b.allocation = allocation;
    b.stride = stride;
    b.mappingTimeout = mappingTimeout;
    b.hairpinning = hairpinning;
    b.lossProbability = lossProbability;
    b.delay = delay;
    b.dropFirstInbound = dropFirstInbound;
    b.dropFrom = dropFrom;
    return b;
  }

  /** True for {@link #open()}: no translation. */
  public boolean isOpen() {
    return open;
  }

  /** The mapping behaviour. */
  public Mapping mapping() {
    return mapping;
  }

  /** The filtering behaviour. */
  public Filtering filtering() {
    return filtering;
  }

  /** The port allocation. */
  public Allocation allocation() {
    return allocation;
  }

  /** Port step of {@link Allocation#SEQUENTIAL}. */
  public int stride() {
    return stride;
  }

  /** Idle time after which a mapping expires (refreshed by outbound packets only); null means never. */
  public Duration mappingTimeout() {
    return mappingTimeout;
  }

  /** Whether hosts behind the NAT reach each other through its public address. */
  public boolean hairpinning() {
    return hairpinning;
  }

  /** Probability in [0, 1] that a packet crossing the NAT (either way) is lost. */
  public double lossProbability() {
    return lossProbability;
  }

  /** Delay added to every packet crossing the NAT (either way). */
  public Duration delay() {
    return delay;
  }

  /** How many inbound packets (that pass filtering and match {@link #dropFrom()}) the NAT drops first. */
  public int dropFirstInbound() {
    return dropFirstInbound;
  }

  /** Which sources {@link #dropFirstInbound()} applies to. */
  public Predicate<InetSocketAddress> dropFrom() {
    return dropFrom;
  }

  @Override
  public String toString() {
    if (open) {
      return "NatBehavior[open]";
    }
    return "NatBehavior[mapping=" + mapping + ", filtering=" + filtering + ", allocation=" + allocation
        + (allocation == Allocation.SEQUENTIAL ? "(" + stride + ")" : "") + ", timeout=" + mappingTimeout
        + ", hairpin=" + hairpinning + ", loss=" + lossProbability + ", delay=" + delay
        + ", dropFirstInbound=" + dropFirstInbound + "]";
  }

  /** Builds a {@link NatBehavior}. */
  public static final class Builder {
    private boolean open;
    private Mapping mapping = Mapping.ENDPOINT_INDEPENDENT;
    private Filtering filtering = Filtering.ADDRESS_AND_PORT_DEPENDENT;
    private Allocation allocation = Allocation.PRESERVING;
    private int stride = 1;
    private Duration mappingTimeout = Duration.ofSeconds(120);
    private boolean hairpinning;
    private double lossProbability;
    private Duration delay = Duration.ZERO;
    private int dropFirstInbound;
    private Predicate<InetSocketAddress> dropFrom = source -> true;

    private Builder() {}

    /** The mapping behaviour. */
    public Builder mapping(Mapping mapping) {
      this.mapping = Objects.requireNonNull(mapping, "mapping");
      return this;
    }

    /** The filtering behaviour. */
    public Builder filtering(Filtering filtering) {
      this.filtering = Objects.requireNonNull(filtering, "filtering");
      return this;
    }

    /** The port allocation (for {@link Allocation#SEQUENTIAL} the stride stays as set, default 1). */
    public Builder allocation(Allocation allocation) {
      this.allocation = Objects.requireNonNull(allocation, "allocation");
      return this;
    }

    /** Sequential port allocation with this stride (1-1000). */
    public Builder sequential(int stride) {
      if (stride < 1 || stride > 1000) {
        throw new IllegalArgumentException("stride must be 1-1000, got " + stride);
      }
      this.allocation = Allocation.SEQUENTIAL;
      this.stride = stride;
      return this;
    }

    /** Idle time after which a mapping expires; null for never. */
    public Builder mappingTimeout(Duration timeout) {
      if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
        throw new IllegalArgumentException("mappingTimeout must be positive or null, got " + timeout);
      }
      this.mappingTimeout = timeout;
      return this;
    }

    /** Whether hosts behind the NAT reach each other through its public address. */
    public Builder hairpinning(boolean hairpinning) {
      this.hairpinning = hairpinning;
      return this;
    }

    /** Probability in [0, 1] that a packet crossing the NAT is lost (drawn from the simulator's seeded random). */
    public Builder lossProbability(double p) {
      if (!(p >= 0 && p <= 1)) {
        throw new IllegalArgumentException("lossProbability must be in [0, 1], got " + p);
      }
      this.lossProbability = p;
      return this;
    }

    /** Delay added to every packet crossing the NAT, each way (0-10 s). */
    public Builder delay(Duration delay) {
      Objects.requireNonNull(delay, "delay");
      if (delay.isNegative() || delay.compareTo(Duration.ofSeconds(10)) > 0) {
        throw new IllegalArgumentException("delay must be 0-10 s, got " + delay);
      }
      this.delay = delay;
      return this;
    }

    /** Drops the first {@code count} inbound packets that pass filtering. */
    public Builder dropFirstInbound(int count) {
      return dropFirstInbound(count, source -> true);
    }

    /** Drops the first {@code count} inbound packets that pass filtering and come from a matching source. */
    public Builder dropFirstInbound(int count, Predicate<InetSocketAddress> from) {
      if (count < 0) {
        throw new IllegalArgumentException("count must not be negative, got " + count);
      }
      this.dropFirstInbound = count;
      this.dropFrom = Objects.requireNonNull(from, "from");
      return this;
    }

    /** The behaviour. */
    public NatBehavior build() {
      return new NatBehavior(this);
    }
  }
}
