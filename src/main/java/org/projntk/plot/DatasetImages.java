package org.projntk.plot;

import org.projntk.data.Dataset;

/** Dataset rows as {@link ImageGrid} images, labels and class names. */
public final class DatasetImages {
    private DatasetImages() {}

    static final String[] FASHION_MNIST_CLASSES = {"T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot"};

    public static ImageGrid.Img image(Dataset data, int i) {
        int[] dims = data.imageDims();
        int[] pixels = data.imageHWC(i);
        byte[] bytes = new byte[pixels.length];
        for (int j = 0; j < pixels.length; j++) bytes[j] = (byte) pixels[j];
        return new ImageGrid.Img(dims[2], dims[0], dims[1], false, bytes);
    }

    /** Fashion-MNIST's names for 10-class single-channel data; null (numbers only) otherwise. */
    public static String[] classNames(Dataset data) {
        return data.numClasses() == 10 && data.exampleShape()[0] == 1 ? FASHION_MNIST_CLASSES : null;
    }
}
