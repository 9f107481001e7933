package org.projntk.data;

/** Images held in memory as bytes, CHW per example (IDX, CIFAR-10). */
final class ByteImageSource implements Source {
    private final String describe;
    private final byte[] pixels;
    private final byte[] labels;
    private final int[] shape;
    private final int exampleSize;

    ByteImageSource(String describe, byte[] pixels, byte[] labels, int[] shape) {
        this.describe = describe;
        this.pixels = pixels;
        this.labels = labels;
        this.shape = shape.clone();
        int n = 1;
        for (int d : shape) n *= d;
        this.exampleSize = n;
        if ((long) labels.length * n != pixels.length) throw new IllegalStateException("pixel/label count mismatch");
    }

    @Override public String describe() { return describe; }
    @Override public long rows() { return labels.length; }
    @Override public int[] exampleShape() { return shape.clone(); }
    @Override public boolean byteValued() { return true; }
    @Override public int numClasses() { return 10; }
    @Override public long label(long row) { return labels[Math.toIntExact(row)] & 0xFF; }

    @Override
    public void raw(long row, float[] dst, int off) {
        int base = Math.multiplyExact(Math.toIntExact(row), exampleSize);
        for (int i = 0; i < exampleSize; i++) dst[off + i] = pixels[base + i] & 0xFF;
    }
}
