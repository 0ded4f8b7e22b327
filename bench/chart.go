package main

import (
	"image/color"
	"math"
	"os"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// series is one bar colour of a panel: a metric of one workload.
type series struct {
	label string
	id    string                // workload ID
	value func(c *Cell) float64 // NaN when the cell has no number
}

// chartPanel is one grouped bar chart: one group per system.
type chartPanel struct {
	title  string
	ylabel string
	series []series
	target float64 // if positive, drawn as a dashed line labelled "target"
}

// panels are the views a reader looks at first, laid out 3 per row.
var panels = []chartPanel{
	{title: "W1 remote one-way, 64 B (higher is better)", ylabel: "million msgs/s", series: []series{
		{"1 sender", "W1.s1", scaled(rateOf, 1e-6)}, {"2 senders", "W1.s2", scaled(rateOf, 1e-6)}}},
	{title: "W3 local port→port, 64 B (higher is better)", ylabel: "million msgs/s", series: []series{
		{"1→1", "W3.f1", scaled(rateOf, 1e-6)}, {"2→2", "W3.f2", scaled(rateOf, 1e-6)}}},
	{title: "W4 remote one-way, 1 MiB (higher is better)", ylabel: "application MB/s", series: []series{
		{"a–z body (W4.bulk)", "W4.bulk", mbpsOf}, {"compressible JSON (W4c)", "W4c", mbpsOf}}},
	{title: "W2 round trip, 64 B, 1 in flight (lower is better)", ylabel: "µs", series: []series{
		{"p50", "W2.c1", scaled(pctOf(50), 1e-3)}, {"p99", "W2.c1", scaled(pctOf(99), 1e-3)}}},
	{title: "W2 round trip, 64 B, 64 in flight (lower is better)", ylabel: "µs", series: []series{
		{"p50", "W2.c64", scaled(pctOf(50), 1e-3)}, {"p99", "W2.c64", scaled(pctOf(99), 1e-3)}}},
	{title: "W4 64 B round trip behind 1 MiB traffic (lower is better)", ylabel: "ms", series: []series{
		{"p50", "W4.hol", scaled(pctOf(50), 1e-6)}, {"p99", "W4.hol", scaled(pctOf(99), 1e-6)}}},
	{title: "W5 time to form a mesh of n nodes (lower is better)", ylabel: "ms", series: []series{
		{"n = 8", "W5.n8", scaled(formOf, 1e-6)}, {"n = 32", "W5.n32", scaled(formOf, 1e-6)},
		{"n = 128", "W5.n128", scaled(formOf, 1e-6)}}},
	{title: "W5 a registry change reaches all n nodes (lower is better)", ylabel: "ms", series: []series{
		{"n = 8", "W5.n8", scaled(propagateOf, 1e-6)}, {"n = 32", "W5.n32", scaled(propagateOf, 1e-6)},
		{"n = 128", "W5.n128", scaled(propagateOf, 1e-6)}}},
	{title: "W6 server goroutines per idle link (lower is better)", ylabel: "goroutines", series: w6Series(func(c *Cell) float64 {
		return linksOf(c, (*LinkStats).GorPerLink)
	}), target: targetGorPerLink},
	{title: "W6 server RSS per idle link (lower is better)", ylabel: "KiB", series: w6Series(func(c *Cell) float64 {
		return linksOf(c, (*LinkStats).RSSPerLinkIdle) / 1024
	}), target: targetRSSPerLink / 1024},
	{title: "W6 server CPU per message, N peers × 10 msg/s (lower is better)", ylabel: "µs", series: w6Series(cpuOf)},
	{title: "W6 probe round trip p99, links idle (lower is better)", ylabel: "ms", series: w6Series(func(c *Cell) float64 {
		return cellMedian(c, func(r Result) float64 { return latP(Result{Lat: r.Links.IdleLat}, 99) }) * 1e-6
	}), target: targetProbeP99 * 1e-6},
	{title: "W6 probe round trip p99 under traffic (lower is better)", ylabel: "ms", series: w6Series(scaled(pctOf(99), 1e-6)), target: targetProbeP99 * 1e-6},
}

// w6Series is one series per W6 link count.
func w6Series(f func(*Cell) float64) []series {
	return []series{{"1,000 links", "W6.n1k", f}, {"5,000 links", "W6.n5k", f}, {"10,000 links", "W6.n10k", f}}
}

// linksOf is the median of a W6 measure over a cell's runs.
func linksOf(c *Cell, f func(*LinkStats) float64) float64 {
	return cellMedian(c, func(r Result) float64 { return f(r.Links) })
}

func cpuOf(c *Cell) float64 { return cellMedian(c, Result.CPUPerMsgUs) }

// palette colours the series of a panel (Okabe–Ito, colour-blind safe).
var palette = []color.Color{
	color.RGBA{0, 114, 178, 255},
	color.RGBA{230, 159, 0, 255},
	color.RGBA{0, 158, 115, 255},
}

func rateOf(c *Cell) float64 { return cellMedian(c, Result.Rate) }

// formOf and propagateOf read a W5 cell's times, in ns.
func formOf(c *Cell) float64 {
	return cellMedian(c, func(r Result) float64 { return float64(r.Mesh.FormNs) })
}

func propagateOf(c *Cell) float64 {
	return cellMedian(c, func(r Result) float64 { return float64(r.Mesh.PropagateNs) })
}
func mbpsOf(c *Cell) float64 { return cellMedian(c, Result.MBps) }

// pctOf reads the median over runs of a latency percentile, in ns.
func pctOf(p float64) func(*Cell) float64 {
	return func(c *Cell) float64 { return cellMedian(c, func(r Result) float64 { return latP(r, p) }) }
}

func scaled(f func(*Cell) float64, k float64) func(*Cell) float64 {
	return func(c *Cell) float64 { return f(c) * k }
}

// cellMedian is the median of f over a cell's runs, NaN without numbers.
func cellMedian(c *Cell, f func(Result) float64) float64 {
	if !c.OK() {
		return math.NaN()
	}
	return summarizeBy(c.Runs, f).Median
}

// writeChart renders the panels into one PNG.
func writeChart(r *Report, path string) error {
	const cols = 3
	rows := (len(panels) + cols - 1) / cols
	img := vgimg.New(21*vg.Inch, vg.Length(rows)*5.5*vg.Inch)
	dc := draw.New(img)
	pad := vg.Centimeter / 2
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: 2 * pad, PadY: 2 * pad, PadTop: pad, PadBottom: pad, PadLeft: pad, PadRight: pad}
	for i, pn := range panels {
		p, err := r.panelPlot(pn)
		if err != nil {
			return err
		}
		p.Draw(tiles.At(dc, i%cols, i/cols))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// panelPlot builds one grouped bar chart. Systems that take part in the
// panel's workloads but have no number are labelled "n/a" or "FAILED".
func (r *Report) panelPlot(pn chartPanel) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = pn.title
	p.Y.Label.Text = pn.ylabel
	p.Y.Min = 0
	p.Legend.Top = true

	var names []string
	var cols [][]*Cell // per system, the cell of each series (nil if absent)
	for _, s := range systems {
		row := make([]*Cell, len(pn.series))
		any := false
		for j, se := range pn.series {
			for _, c := range r.Cells {
				if c.S == s && c.W.ID == se.id {
					row[j], any = c, true
				}
			}
		}
		if any {
			names, cols = append(names, axisLabel(s, row)), append(cols, row)
		}
	}
	if len(cols) == 0 {
		p.Title.Text += " — no data"
		return p, nil
	}
	width := vg.Points(math.Min(28, 220/float64(len(cols)*len(pn.series))))
	top := 0.0
	for j, se := range pn.series {
		vals := make(plotter.Values, len(cols))
		for i, row := range cols {
			if row[j] != nil {
				if v := se.value(row[j]); !math.IsNaN(v) {
					vals[i] = v
					top = math.Max(top, v)
				}
			}
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return nil, err
		}
		bars.Color = palette[j%len(palette)]
		bars.LineStyle.Width = 0
		bars.Offset = vg.Length(float64(j)-float64(len(pn.series)-1)/2) * width
		p.Add(bars)
		p.Legend.Add(se.label, bars)
	}
	if pn.target > 0 {
		line, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: pn.target}, {X: float64(len(cols)) - 0.5, Y: pn.target}})
		if err != nil {
			return nil, err
		}
		line.Color = color.RGBA{213, 94, 0, 255}
		line.Width = vg.Points(1.5)
		line.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
		p.Add(line)
		p.Legend.Add("target", line)
		top = math.Max(top, pn.target)
	}
	p.Y.Max = top * 1.2 // room for the legend above the tallest bar
	p.NominalX(names...)
	p.Add(plotter.NewGrid())
	return p, nil
}

// axisLabel names a system under its bar group, marking a group without numbers.
func axisLabel(s *System, row []*Cell) string {
	name := strings.Replace(s.Name, " ", "\n", 1) // two short lines fit under a bar group
	for _, c := range row {
		if c == nil {
			continue
		}
		if c.OK() {
			return name
		}
		if c.Failed != "" {
			return name + "\nFAILED"
		}
	}
	return name + "\nn/a"
}
