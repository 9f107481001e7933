package org.projntk.analysis;

import org.projntk.data.Dataset;

/** Dataset rows as {@link ImageGrid} images, labels and class names. */
final class DatasetImages {
    private DatasetImages() {}

    static final String[] FASHION_MNIST_CLASSES = {"T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot"};

    static ImageGrid.Img image(Dataset data, int i) {
        int[] dims = data.imageDims();
        int[] pixels = data.imageHWC(i);
        byte[] bytes = new byte[pixels.length];
        for (int j = 0; j < pixels.length; j++) bytes[j] = (byte) pixels[j];
        return new ImageGrid.Img(dims[2], dims[0], dims[1], false, bytes);
    }

    static int[] labels(Dataset data) {
        int[] out = new int[Math.toIntExact(data.size())];
        for (int i = 0; i < out.length; i++) out[i] = (int) data.label(i);
        return out;
    }

    /** Fashion-MNIST's names for 10-class single-channel data; null (numbers only) otherwise. */
    static String[] classNames(Dataset data) {
        return data.numClasses() == 10 && data.exampleShape()[0] == 1 ? FASHION_MNIST_CLASSES : null;
    }
}
