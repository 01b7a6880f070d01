package transcode

import (
	"reflect"
	"testing"
)

func TestPlanLadder(t *testing.T) {
	tests := []struct {
		name          string
		width, height int
		fps           float64
		want          []Rung
	}{
		{
			name: "1080p30", width: 1920, height: 1080, fps: 30,
			want: []Rung{
				{"1080p", 1920, 1080, 30, 5_000_000},
				{"720p", 1280, 720, 30, 2_800_000},
				{"480p", 854, 480, 30, 1_400_000},
				{"360p", 640, 360, 30, 800_000},
			},
		},
		{
			name: "720p24", width: 1280, height: 720, fps: 24,
			want: []Rung{
				{"720p", 1280, 720, 24, 2_800_000},
				{"480p", 854, 480, 24, 1_400_000},
				{"360p", 640, 360, 24, 800_000},
			},
		},
		{
			name: "1440p60 capped to 1080p, high rate", width: 2560, height: 1440, fps: 60,
			want: []Rung{
				{"1080p", 1920, 1080, 60, 7_500_000},
				{"720p", 1280, 720, 60, 4_200_000},
				{"480p", 854, 480, 60, 2_100_000},
				{"360p", 640, 360, 60, 1_200_000},
			},
		},
		{
			name: "120 fps capped at 60", width: 640, height: 360, fps: 120,
			want: []Rung{{"360p", 640, 360, 60, 1_200_000}},
		},
		{
			name: "432p12.5 keeps a rung of its own size", width: 768, height: 432, fps: 12.5,
			want: []Rung{{"432p", 768, 432, 12.5, 1_134_000}, {"360p", 640, 360, 12.5, 800_000}},
		},
		{
			name: "just under 720p keeps its own size", width: 1279, height: 719, fps: 30,
			want: []Rung{
				{"718p", 1278, 718, 30, 2_792_227},
				{"480p", 854, 480, 30, 1_400_000},
				{"360p", 640, 360, 30, 800_000},
			},
		},
		{
			name: "just over 360p needs no rung of its own", width: 658, height: 370, fps: 30,
			want: []Rung{{"360p", 640, 360, 30, 800_000}},
		},
		{
			name: "below 360p keeps its own even size", width: 321, height: 241, fps: 25,
			want: []Rung{{"240p", 320, 240, 25, 500_000}},
		},
		{
			name: "portrait is laddered by its short side", width: 720, height: 1280, fps: 30,
			want: []Rung{
				{"720p", 720, 1280, 30, 2_800_000},
				{"480p", 480, 854, 30, 1_400_000},
				{"360p", 360, 640, 30, 800_000},
			},
		},
		{
			name: "phone portrait 1080x1920", width: 1080, height: 1920, fps: 30,
			want: []Rung{
				{"1080p", 1080, 1920, 30, 5_000_000},
				{"720p", 720, 1280, 30, 2_800_000},
				{"480p", 480, 854, 30, 1_400_000},
				{"360p", 360, 640, 30, 800_000},
			},
		},
		{
			name: "unknown frame rate", width: 1280, height: 720, fps: 0,
			want: []Rung{
				{"720p", 1280, 720, 30, 2_800_000},
				{"480p", 854, 480, 30, 1_400_000},
				{"360p", 640, 360, 30, 800_000},
			},
		},
		{name: "unknown size", width: 0, height: 0, fps: 30, want: nil},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PlanLadder(tt.width, tt.height, tt.fps)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("PlanLadder(%d, %d, %v):\n got %v\nwant %v",
					tt.width, tt.height, tt.fps, got, tt.want)
			}
		})
	}
}
