package lidc

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"

	"voxmine/ingest/source"
)

// Read is one LIDC XML file: the series it reads and its reading sessions.
type Read struct {
	Path      string
	SeriesUID string
	Sessions  []Session
}

// Session is one radiologist's read.
type Session struct {
	Reader     string
	Nodules    []Mark  // unblindedReadNodule: contoured nodules, and points for those under 3 mm
	NonNodules []Point // nonNodule: a point on something that is not a nodule
}

// Mark is one reader's nodule.
type Mark struct {
	ID    string
	Chars *Characteristics // absent for nodules under 3 mm
	ROIs  []ROI
}

// Characteristics are the nine ratings LIDC readers gave a nodule of 3 mm
// or more (1–5 or 1–6).
type Characteristics struct {
	Subtlety, InternalStructure, Calcification, Sphericity, Margin, Lobulation, Spiculation, Texture, Malignancy int
}

// Values lists the characteristics in LIDC's order.
func (c Characteristics) Values() [9]int {
	return [9]int{c.Subtlety, c.InternalStructure, c.Calcification, c.Sphericity, c.Margin, c.Lobulation, c.Spiculation, c.Texture, c.Malignancy}
}

// CharacteristicNames are the names of Values, as LIDC spells them.
var CharacteristicNames = [9]string{"subtlety", "internalStructure", "calcification", "sphericity", "margin", "lobulation", "spiculation", "texture", "malignancy"}

// ROI is one slice's contour of a mark.
type ROI struct {
	Z         float64 // imageZposition
	SOP       string  // imageSOP_UID
	Inclusion bool    // false: a hole to take out
	Edge      [][2]int
}

// Point is a single marked pixel (a non-nodule, or a nodule under 3 mm).
type Point struct {
	ID   string
	Z    float64
	SOP  string
	X, Y int
}

// The XML as encoding/xml sees it; names match whatever the namespace.
type xmlMessage struct {
	XMLName xml.Name `xml:"LidcReadMessage"`
	Header  struct {
		SeriesUID  string `xml:"SeriesInstanceUid"`
		SeriesUID2 string `xml:"SeriesInstanceUID"`
	} `xml:"ResponseHeader"`
	Sessions []struct {
		Reader  string `xml:"servicingRadiologistID"`
		Nodules []struct {
			ID    string `xml:"noduleID"`
			Chars *struct {
				Subtlety          string `xml:"subtlety"`
				InternalStructure string `xml:"internalStructure"`
				Calcification     string `xml:"calcification"`
				Sphericity        string `xml:"sphericity"`
				Margin            string `xml:"margin"`
				Lobulation        string `xml:"lobulation"`
				Spiculation       string `xml:"spiculation"`
				Texture           string `xml:"texture"`
				Malignancy        string `xml:"malignancy"`
			} `xml:"characteristics"`
			ROIs []struct {
				Z         string `xml:"imageZposition"`
				SOP       string `xml:"imageSOP_UID"`
				Inclusion string `xml:"inclusion"`
				Edges     []struct {
					X string `xml:"xCoord"`
					Y string `xml:"yCoord"`
				} `xml:"edgeMap"`
			} `xml:"roi"`
		} `xml:"unblindedReadNodule"`
		NonNodules []struct {
			ID    string `xml:"nonNoduleID"`
			Z     string `xml:"imageZposition"`
			SOP   string `xml:"imageSOP_UID"`
			Locus []struct {
				X string `xml:"xCoord"`
				Y string `xml:"yCoord"`
			} `xml:"locus"`
		} `xml:"nonNodule"`
	} `xml:"readingSession"`
}

// ErrNotLIDC marks an XML file that is not an LIDC read message.
var ErrNotLIDC = errors.New("not an LIDC read message")

// ReadFile parses an LIDC XML file.
func ReadFile(path string) (*Read, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Decode(f, path)
}

// Decode parses an LIDC read message from r; name names it in errors. A
// field it cannot read (a malformed number) is an error naming it; fields
// that older messages lack are left empty.
func Decode(r io.Reader, name string) (*Read, error) {
	var m xmlMessage
	dec := xml.NewDecoder(io.LimitReader(r, 64<<20))
	if err := dec.Decode(&m); err != nil {
		var se *xml.UnmarshalError
		if errors.As(err, &se) || strings.Contains(err.Error(), "expected element type <LidcReadMessage>") {
			return nil, ErrNotLIDC
		}
		return nil, source.Formatf(name, "XML: %w", err)
	}
	out := &Read{Path: name, SeriesUID: strings.TrimSpace(m.Header.SeriesUID)}
	if out.SeriesUID == "" {
		out.SeriesUID = strings.TrimSpace(m.Header.SeriesUID2)
	}
	num := func(what, v string) (float64, error) {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return 0, source.Formatf(name, "%s %q is not a number", what, v)
		}
		return f, nil
	}
	integer := func(what, v string) (int, error) {
		f, err := num(what, v)
		if err == nil && (f != float64(int(f)) || f < -1e6 || f > 1e6) {
			err = source.Formatf(name, "%s %q is not a pixel coordinate", what, v)
		}
		return int(f), err
	}
	for _, s := range m.Sessions {
		sess := Session{Reader: strings.TrimSpace(s.Reader)}
		for _, n := range s.Nodules {
			mark := Mark{ID: strings.TrimSpace(n.ID)}
			if n.Chars != nil {
				c := &Characteristics{}
				for i, p := range []struct {
					v   string
					dst *int
				}{{n.Chars.Subtlety, &c.Subtlety}, {n.Chars.InternalStructure, &c.InternalStructure}, {n.Chars.Calcification, &c.Calcification},
					{n.Chars.Sphericity, &c.Sphericity}, {n.Chars.Margin, &c.Margin}, {n.Chars.Lobulation, &c.Lobulation},
					{n.Chars.Spiculation, &c.Spiculation}, {n.Chars.Texture, &c.Texture}, {n.Chars.Malignancy, &c.Malignancy}} {
					if strings.TrimSpace(p.v) == "" {
						continue // older messages leave some out
					}
					v, err := integer(CharacteristicNames[i], p.v)
					if err != nil {
						return nil, err
					}
					*p.dst = v
				}
				mark.Chars = c
			}
			for _, roi := range n.ROIs {
				z, err := num("imageZposition", roi.Z)
				if err != nil {
					return nil, err
				}
				r := ROI{Z: z, SOP: strings.TrimSpace(roi.SOP), Inclusion: !strings.EqualFold(strings.TrimSpace(roi.Inclusion), "FALSE")}
				for _, e := range roi.Edges {
					x, err := integer("xCoord", e.X)
					if err != nil {
						return nil, err
					}
					y, err := integer("yCoord", e.Y)
					if err != nil {
						return nil, err
					}
					r.Edge = append(r.Edge, [2]int{x, y})
				}
				mark.ROIs = append(mark.ROIs, r)
			}
			sess.Nodules = append(sess.Nodules, mark)
		}
		for _, n := range s.NonNodules {
			z, err := num("imageZposition", n.Z)
			if err != nil {
				return nil, err
			}
			p := Point{ID: strings.TrimSpace(n.ID), Z: z, SOP: strings.TrimSpace(n.SOP)}
			if len(n.Locus) > 0 {
				if p.X, err = integer("xCoord", n.Locus[0].X); err != nil {
					return nil, err
				}
				if p.Y, err = integer("yCoord", n.Locus[0].Y); err != nil {
					return nil, err
				}
			}
			sess.NonNodules = append(sess.NonNodules, p)
		}
		out.Sessions = append(out.Sessions, sess)
	}
	if out.SeriesUID == "" && len(out.Sessions) == 0 {
		return nil, source.Formatf(name, "an LIDC read message without a series or reading sessions")
	}
	return out, nil
}
