// An independent plain tf.js implementation of the face-mask pipeline, written from the model
// card's description, for checking the Python pipeline on photos without stored references.
// Decoding uses tf.js tensor ops and NMS uses tf.image.nonMaxSuppression; it loads its own copy
// of the model with tf.loadLayersModel.
window.jsReference = {
  async load(modelUrl, spec) {
    this.spec = spec;
    this.model = await tf.loadLayersModel(modelUrl);
    const rows = [];
    spec.feature_maps.forEach((n, m) => {
      const sizes = spec.sizes[m], ratios = spec.ratios[m];
      const shapes = sizes.map((s) => [s * Math.sqrt(ratios[0]), s / Math.sqrt(ratios[0])])
        .concat(ratios.slice(1).map((r) => [sizes[0] * Math.sqrt(r), sizes[0] / Math.sqrt(r)]));
      for (let y = 0; y < n; y++) {
        for (let x = 0; x < n; x++) {
          for (const [w, h] of shapes) rows.push([(x + 0.5) / n, (y + 0.5) / n, w, h]);
        }
      }
    });
    this.anchors = tf.tensor2d(rows);
  },

  async detect(source, width, height, scoreThreshold, iouThreshold) {
    const spec = this.spec;
    const [boxes, scores, classes] = tf.tidy(() => {
      const input = tf.image.resizeBilinear(tf.browser.fromPixels(source), [spec.height, spec.width])
        .div(255).expandDims(0);
      const [offsets, classScores] = this.model.predict(input).map((t) => t.squeeze([0]));
      const scaled = offsets.mul(tf.tensor1d(spec.variances));
      const [a_cxcy, a_wh] = tf.split(this.anchors, 2, 1);
      const [o_cxcy, o_wh] = tf.split(scaled, 2, 1);
      const centre = o_cxcy.mul(a_wh).add(a_cxcy);
      const half = o_wh.exp().mul(a_wh).div(2);
      const [xmin, ymin] = tf.split(centre.sub(half), 2, 1);
      const [xmax, ymax] = tf.split(centre.add(half), 2, 1);
      return [tf.concat([ymin, xmin, ymax, xmax], 1), classScores.max(1), classScores.argMax(1)];
    });
    const keep = await tf.image.nonMaxSuppressionAsync(boxes, scores, spec.max_detections, iouThreshold,
                                                        scoreThreshold);
    const [k, b, s, c] = await Promise.all([keep.data(), boxes.data(), scores.data(), classes.data()]);
    tf.dispose([keep, boxes, scores, classes]);
    return Array.from(k, (i) => ({
      box: [Math.round(Math.max(b[4 * i + 1] * width, 0)), Math.round(Math.max(b[4 * i] * height, 0)),
            Math.round(Math.min(b[4 * i + 3] * width, width)), Math.round(Math.min(b[4 * i + 2] * height, height))],
      class_id: c[i],
      score: s[i],
    }));
  },
};
