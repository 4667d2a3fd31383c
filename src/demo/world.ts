/**
 * The demo shop's world: channels with their *true* effects (ground truth for attribution tests), products,
 * places and devices. Numbers are invented but shaped after the GA4 demo store (shared/ga4 sample content facts).
 */

export interface DemoChannel {
  key: string;
  source: string;
  medium: string;
  campaigns: readonly string[];
  /** utm_* on the landing URL (and so source/medium/campaign event params, collected_traffic_source). */
  tagged: boolean;
  /** Google Ads auto-tagging: a gclid on the landing URL. */
  gclid?: boolean;
  /** page_referrer of the landing page. */
  referrer?: string;
  /** Weight among a user's first sessions. */
  acquisitionWeight: number;
  /** Weight among later sessions (for eligible users). */
  returnWeight: number;
  /** Only shown to users who viewed an item before (retargeting); appears late in journeys. */
  needsPriorItemView?: boolean;
  /** Only reaches registered users (needs an e-mail address); appears late. */
  needsRegistration?: boolean;
  /**
   * True causal effect on the purchase probability of the session it brings (multiplier).
   * Attribution models should find channels with `carryLift > 1` incremental; retargeting and brand
   * search look good on last click only because they reach users who were going to buy anyway.
   */
  sessionLift: number;
  /** Lasting multiplier on the user's purchase propensity after the first exposure (true incrementality). */
  carryLift: number;
  /** Cost model: per click (cpc) in USD; impressions per click. */
  costPerClick: number;
  impressionsPerClick: number;
  /** Fixed daily cost (e-mail service), USD. */
  dailyCost?: number;
}

export const DEMO_CHANNELS: readonly DemoChannel[] = [
  { key: "organic_search", source: "google", medium: "organic", campaigns: ["(organic)"], tagged: false, referrer: "https://www.google.com/", acquisitionWeight: 28, returnWeight: 14, sessionLift: 1.0, carryLift: 1.0, costPerClick: 0, impressionsPerClick: 0 },
  { key: "direct", source: "(direct)", medium: "(none)", campaigns: ["(direct)"], tagged: false, acquisitionWeight: 14, returnWeight: 24, sessionLift: 1.0, carryLift: 1.0, costPerClick: 0, impressionsPerClick: 0 },
  { key: "paid_search_brand", source: "google", medium: "cpc", campaigns: ["brand_search"], tagged: true, gclid: true, referrer: "https://www.google.com/", acquisitionWeight: 7, returnWeight: 10, sessionLift: 1.35, carryLift: 1.0, costPerClick: 0.35, impressionsPerClick: 8 },
  { key: "paid_search_generic", source: "google", medium: "cpc", campaigns: ["generic_search", "shopping_feed"], tagged: true, gclid: true, referrer: "https://www.google.com/", acquisitionWeight: 12, returnWeight: 4, sessionLift: 1.1, carryLift: 1.35, costPerClick: 1.1, impressionsPerClick: 25 },
  { key: "paid_search_bing", source: "bing", medium: "cpc", campaigns: ["generic_search_bing"], tagged: true, referrer: "https://www.bing.com/", acquisitionWeight: 2, returnWeight: 1, sessionLift: 1.05, carryLift: 1.1, costPerClick: 0.8, impressionsPerClick: 20 },
  { key: "paid_social", source: "facebook", medium: "paid_social", campaigns: ["prospecting_broad", "prospecting_lookalike"], tagged: true, referrer: "https://m.facebook.com/", acquisitionWeight: 14, returnWeight: 3, sessionLift: 0.5, carryLift: 1.45, costPerClick: 0.6, impressionsPerClick: 90 },
  { key: "display_retargeting", source: "criteo", medium: "display", campaigns: ["retargeting_viewed", "retargeting_cart"], tagged: true, acquisitionWeight: 0, returnWeight: 9, needsPriorItemView: true, sessionLift: 1.0, carryLift: 1.0, costPerClick: 0.45, impressionsPerClick: 160 },
  { key: "email", source: "newsletter", medium: "email", campaigns: ["weekly_newsletter", "cart_reminder"], tagged: true, acquisitionWeight: 0, returnWeight: 11, needsRegistration: true, sessionLift: 1.7, carryLift: 1.1, costPerClick: 0, impressionsPerClick: 0, dailyCost: 15 },
  { key: "referral", source: "partner-blog.example.com", medium: "referral", campaigns: ["(referral)"], tagged: false, referrer: "https://partner-blog.example.com/best-gifts", acquisitionWeight: 6, returnWeight: 2, sessionLift: 1.0, carryLift: 1.05, costPerClick: 0, impressionsPerClick: 0 },
  { key: "organic_social", source: "instagram", medium: "social", campaigns: ["bio_link"], tagged: true, referrer: "https://l.instagram.com/", acquisitionWeight: 5, returnWeight: 2, sessionLift: 0.8, carryLift: 1.05, costPerClick: 0, impressionsPerClick: 0 },
  { key: "affiliate", source: "awin", medium: "affiliate", campaigns: ["coupon_partners"], tagged: true, referrer: "https://coupons.example.net/", acquisitionWeight: 3, returnWeight: 3, sessionLift: 1.25, carryLift: 1.0, costPerClick: 0.9, impressionsPerClick: 12 },
];

export interface DemoProduct {
  id: string;
  name: string;
  category: string;
  price: number;
}

const PRODUCT_LINES: [string, string[], number][] = [
  ["Apparel", ["Hoodie", "T-Shirt", "Cap", "Beanie", "Socks", "Jacket", "Sweatshirt"], 28],
  ["Drinkware", ["Water Bottle", "Mug", "Tumbler", "Travel Cup"], 16],
  ["Bags", ["Backpack", "Tote Bag", "Laptop Sleeve", "Duffel"], 45],
  ["Office", ["Notebook", "Pen Set", "Sticker Pack", "Desk Mat"], 9],
  ["Lifestyle", ["Sunglasses", "Umbrella", "Blanket", "Keychain", "Phone Case"], 22],
];
const COLOURS = ["Black", "Navy", "Green"];

export const DEMO_PRODUCTS: readonly DemoProduct[] = PRODUCT_LINES.flatMap(([category, names, base], li) =>
  names.flatMap((n, ni) =>
    COLOURS.slice(0, 1 + ((li + ni) % 3)).map((c, ci) => ({
      id: `GGDEMO${String(li + 1).padStart(2, "0")}${String(ni + 1).padStart(2, "0")}${ci + 1}`,
      name: `Demo ${c} ${n}`,
      category,
      price: (Math.round(base * (0.6 + 0.25 * ni + 0.1 * ci) * 100) - 1) / 100,
    })),
  ),
);

export interface DemoPlace {
  continent: string;
  subContinent: string;
  country: string;
  region: string;
  city: string;
  weight: number;
}

export const DEMO_PLACES: readonly DemoPlace[] = [
  { continent: "Americas", subContinent: "Northern America", country: "United States", region: "California", city: "San Jose", weight: 14 },
  { continent: "Americas", subContinent: "Northern America", country: "United States", region: "New York", city: "New York", weight: 11 },
  { continent: "Americas", subContinent: "Northern America", country: "United States", region: "Texas", city: "Austin", weight: 8 },
  { continent: "Americas", subContinent: "Northern America", country: "United States", region: "Illinois", city: "Chicago", weight: 6 },
  { continent: "Americas", subContinent: "Northern America", country: "United States", region: "Washington", city: "Seattle", weight: 5 },
  { continent: "Americas", subContinent: "Northern America", country: "Canada", region: "Ontario", city: "Toronto", weight: 5 },
  { continent: "Asia", subContinent: "Southern Asia", country: "India", region: "Karnataka", city: "Bengaluru", weight: 8 },
  { continent: "Asia", subContinent: "Southern Asia", country: "India", region: "Maharashtra", city: "Mumbai", weight: 5 },
  { continent: "Europe", subContinent: "Northern Europe", country: "United Kingdom", region: "England", city: "London", weight: 9 },
  { continent: "Europe", subContinent: "Western Europe", country: "Germany", region: "Bavaria", city: "Munich", weight: 5 },
  { continent: "Europe", subContinent: "Western Europe", country: "Germany", region: "Berlin", city: "Berlin", weight: 4 },
  { continent: "Europe", subContinent: "Western Europe", country: "France", region: "Ile-de-France", city: "Paris", weight: 4 },
  { continent: "Europe", subContinent: "Southern Europe", country: "Spain", region: "Community of Madrid", city: "Madrid", weight: 3 },
  { continent: "Asia", subContinent: "Eastern Asia", country: "Japan", region: "Tokyo", city: "Tokyo", weight: 3 },
  { continent: "Oceania", subContinent: "Australasia", country: "Australia", region: "New South Wales", city: "Sydney", weight: 3 },
];

export interface DemoDevice {
  category: "desktop" | "mobile" | "tablet";
  os: string;
  osVersion: string;
  browser: string;
  browserVersion: string;
  brand: string;
  model: string;
  weight: number;
}

export const DEMO_DEVICES: readonly DemoDevice[] = [
  { category: "desktop", os: "Windows", osVersion: "Windows 10", browser: "Chrome", browserVersion: "122.0", brand: "Google", model: "Chrome", weight: 30 },
  { category: "desktop", os: "Macintosh", osVersion: "Macintosh Intel 10.15", browser: "Chrome", browserVersion: "122.0", brand: "Google", model: "Chrome", weight: 14 },
  { category: "desktop", os: "Macintosh", osVersion: "Macintosh Intel 10.15", browser: "Safari", browserVersion: "17.3", brand: "Apple", model: "Safari", weight: 8 },
  { category: "desktop", os: "Windows", osVersion: "Windows 11", browser: "Edge", browserVersion: "122.0", brand: "Microsoft", model: "Edge", weight: 5 },
  { category: "mobile", os: "iOS", osVersion: "iOS 17.3", browser: "Safari", browserVersion: "17.3", brand: "Apple", model: "iPhone", weight: 20 },
  { category: "mobile", os: "Android", osVersion: "Android 14", browser: "Chrome", browserVersion: "122.0", brand: "Samsung", model: "SM-S918B", weight: 12 },
  { category: "mobile", os: "Android", osVersion: "Android 13", browser: "Chrome", browserVersion: "121.0", brand: "Google", model: "Pixel 7", weight: 6 },
  { category: "tablet", os: "iOS", osVersion: "iPadOS 17.3", browser: "Safari", browserVersion: "17.3", brand: "Apple", model: "iPad", weight: 4 },
  { category: "tablet", os: "Android", osVersion: "Android 13", browser: "Chrome", browserVersion: "121.0", brand: "Samsung", model: "SM-X710", weight: 1 },
];

/** Purchase-intent multiplier per device category: desktop sessions convert about 2.5× as often as mobile ones, as in most shops. */
export const DEMO_DEVICE_PURCHASE_LIFT: Readonly<Record<DemoDevice["category"], number>> = { desktop: 1.25, mobile: 0.75, tablet: 1.0 };

export const DEMO_LANGUAGES: Record<string, string> = {
  "United States": "en-us",
  Canada: "en-ca",
  India: "en-in",
  "United Kingdom": "en-gb",
  Germany: "de-de",
  France: "fr-fr",
  Spain: "es-es",
  Japan: "ja-jp",
  Australia: "en-au",
};

/** Firmographics of lead-form submitters (B2B bulk orders) and their true effect on the lead converting (log-odds). */
export const DEMO_COMPANY_SIZES: readonly { label: string; employees: [number, number]; effect: number; weight: number }[] = [
  { label: "1-10", employees: [1, 10], effect: -0.7, weight: 30 },
  { label: "11-50", employees: [11, 50], effect: 0, weight: 30 },
  { label: "51-200", employees: [51, 200], effect: 0.45, weight: 20 },
  { label: "201-1000", employees: [201, 1000], effect: 0.8, weight: 12 },
  { label: "1000+", employees: [1001, 20000], effect: 0.5, weight: 8 },
];
export const DEMO_INDUSTRIES: readonly { label: string; effect: number; weight: number }[] = [
  { label: "Technology", effect: 0.5, weight: 25 },
  { label: "Education", effect: 0.2, weight: 15 },
  { label: "Retail", effect: -0.2, weight: 15 },
  { label: "Finance", effect: 0.3, weight: 12 },
  { label: "Healthcare", effect: 0, weight: 10 },
  { label: "Non-profit", effect: -0.5, weight: 10 },
  { label: "Other", effect: -0.3, weight: 13 },
];
export const DEMO_SENIORITIES: readonly { label: string; effect: number; weight: number }[] = [
  { label: "Individual contributor", effect: -0.3, weight: 40 },
  { label: "Manager", effect: 0.2, weight: 35 },
  { label: "Director", effect: 0.5, weight: 17 },
  { label: "Executive", effect: 0.3, weight: 8 },
];
