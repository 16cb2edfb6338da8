package dev.gtramp.kernel.bpf;

/**
 * {@code enum bpf_map_type} ({@code include/uapi/linux/bpf.h}): the map types the model has, each
 * with its kernel name and number.
 */
public enum BpfMapType {
    /** {@code BPF_MAP_TYPE_ARRAY} ({@code kernel/bpf/arraymap.c}): {@link BpfArrayMap}. */
    ARRAY("BPF_MAP_TYPE_ARRAY", 2),
    /** {@code BPF_MAP_TYPE_PERCPU_ARRAY} ({@code kernel/bpf/arraymap.c}): {@link BpfPercpuArrayMap}. */
    PERCPU_ARRAY("BPF_MAP_TYPE_PERCPU_ARRAY", 6),
    /** {@code BPF_MAP_TYPE_HASH} ({@code kernel/bpf/hashtab.c}): {@link BpfHashMap}. */
    HASH("BPF_MAP_TYPE_HASH", 1),
    /** {@code BPF_MAP_TYPE_RINGBUF} ({@code kernel/bpf/ringbuf.c}): {@link BpfRingBuf}. */
    RINGBUF("BPF_MAP_TYPE_RINGBUF", 27);

    private final String kernelName;
    private final int id;

    BpfMapType(String kernelName, int id) {
        this.kernelName = kernelName;
        this.id = id;
    }

    /** The uapi name, e.g. {@code BPF_MAP_TYPE_HASH}. */
    public String kernelName() {
        return kernelName;
    }

    /** The uapi value, as {@code bpf_attr.map_type} carries it. */
    public int id() {
        return id;
    }
}
