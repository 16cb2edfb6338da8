package dev.gtramp.kernel.btf;

/**
 * {@code struct btf_array}, the data following an {@code ARRAY} type.
 *
 * @param elemType  the element type id
 * @param indexType the index type id
 * @param nelems    the number of elements (a {@code u32}, held unsigned)
 */
public record BtfArray(int elemType, int indexType, long nelems) {
}
