package dev.gtramp.trampoline;

import java.util.List;

/**
 * {@code struct bpf_tracing_multi_opts}: the targets of a tracing multi link when no pattern is
 * given, by BTF id ({@link #ids}, the image's function index) or by name ({@link #names}), with an
 * optional cookie per target, and the count ({@code cnt}) the kernel is told.
 */
public final class TracingMultiOpts {
    long[] ids;
    List<String> names;
    long[] cookies;
    int cnt = -1;

    public static TracingMultiOpts create() {
        return new TracingMultiOpts();
    }

    /** Targets by BTF id ({@code opts.ids}). */
    public TracingMultiOpts ids(long... ids) {
        this.ids = ids.clone();
        return this;
    }

    /** Targets by name; resolved as libbpf resolves names to BTF ids. */
    public TracingMultiOpts names(List<String> names) {
        this.names = List.copyOf(names);
        return this;
    }

    /** {@code opts.cookies}: one per target, in target order. */
    public TracingMultiOpts cookies(long... cookies) {
        this.cookies = cookies.clone();
        return this;
    }

    /** {@code opts.cnt}; by default the number of targets given. */
    public TracingMultiOpts cnt(int cnt) {
        this.cnt = cnt;
        return this;
    }

    boolean hasTargets() {
        return ids != null || names != null;
    }
}
