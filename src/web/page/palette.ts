/**
 * Group colours: the Okabe–Ito palette, distinguishable with the common
 * colour-vision deficiencies. Colour never carries meaning alone: every
 * group also shows its number.
 */
const OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999"] as const;
/** black text on the light colours, white on the dark ones (contrast ≥ 4.5:1) */
const TEXT = ["#000", "#000", "#000", "#000", "#fff", "#000", "#000", "#000"] as const;

export const groupColour = (group: number): string => OKABE_ITO[group % OKABE_ITO.length]!;
export const groupTextColour = (group: number): string => TEXT[group % TEXT.length]!;
